// The explorer's model: a scenario run op by op with the state after each
// op kept as a snapshot (page kinds, entry bits, PAGEMAP_SCAN categories,
// VMAs), so stepping is a lookup; the live simulator state behind the tree
// and walk views is recomputed by replaying the ops.
import type { TraceEvent, TraceMm } from '@pagewalk/core-walk';
import {
  CATEGORY_NAMES,
  canonicalResults,
  firstDifference,
  parseScenario,
  parseScenarioValue,
  type OpResult,
  type ResultDifference,
  type Scenario,
  type ScenarioOp,
} from '@pagewalk/scenario';
import { createScenarioSession, simulatorSkipReason, type ScenarioFeature, type ScenarioSession } from '@pagewalk/scenario-runner/session';
import { classifyArena, PAGE_SIZE, type VmaInfo } from './classify.js';
import { EXPLORER_FEATURES } from './features.js';
import { pageTableTree, type TreeInfo } from './tree.js';
import { explainPage, type PageEvent, type WhyAnswer } from './why.js';

export interface Snapshot {
  /** The op this is the state after; -1 for the empty arena before op 0. */
  readonly index: number;
  readonly kinds: Uint8Array;
  readonly bits: Uint8Array;
  /** PAGEMAP_SCAN category bit mask per page (bit i = CATEGORY_NAMES[i]), or null without the pagemap-scan feature. */
  readonly categories: Uint16Array | null;
  readonly vmas: readonly VmaInfo[];
}

export interface ExplorerOptions {
  features?: readonly ScenarioFeature[];
  /** Take the PAGEMAP_SCAN categories of every page after every op (default true). */
  categories?: boolean;
}

export interface TraceRun {
  readonly op: ScenarioOp;
  readonly result: OpResult;
  readonly events: readonly TraceEvent[];
  /** Events past the cap were counted, not kept. */
  readonly dropped: number;
}

export const TRACE_EVENT_CAP = 50_000;

/** The one-line message the CLI prints for a scenario that does not parse. */
export function scenarioErrorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return `pagewalk: ${text.split('\n')[0] ?? ''}`;
}

/** Parses scenario JSON text as the CLI does; returns the scenario or the CLI's one-line error. */
export function parseScenarioText(text: string, file = 'scenario.json'): { scenario: Scenario } | { error: string } {
  try {
    return { scenario: parseScenario(text, file) };
  } catch (error) {
    return { error: scenarioErrorLine(error) };
  }
}

/** One op, validated and completed with its defaults as in a scenario file. */
export function parseOp(op: unknown, arenaPages: number): ScenarioOp {
  return parseScenarioValue({ name: 'op', arena_pages: arenaPages, ops: [op] }, 'op').ops[0]!;
}

/** Fills categories from a PAGEMAP_SCAN over the whole arena (return_mask all). */
function scanCategories(session: ScenarioSession, pages: number): Uint16Array | null {
  if (!session.supports('scan')) return null;
  const out = new Uint16Array(pages);
  const op = parseOp({ op: 'scan', page: 0, pages, return_mask: ['all'] }, pages);
  const result = session.execute(op) as OpResult & { regions?: [number, number, string[]][] };
  for (const [start, end, names] of result.regions ?? []) {
    let mask = 0;
    for (const name of names) mask |= 1 << (CATEGORY_NAMES as readonly string[]).indexOf(name);
    out.fill(mask, Math.max(0, start), Math.min(pages, end));
  }
  return out;
}

/** Snapshot bytes (4 per page per op) kept for every op up front; above it, snapshots are recomputed on demand. */
export const SNAPSHOT_BUDGET_BYTES = 2 ** 26;
/** Snapshots kept when they are recomputed on demand. */
const SNAPSHOT_CACHE = 8;

export class ScenarioExplorer {
  readonly scenario: Scenario;
  readonly results: readonly OpResult[];
  /** Why the simulator would not run this scenario (its results are then still shown), or null. */
  readonly skipReason: string | null;
  readonly runMs: number;
  /** Whether every op's snapshot was taken up front (else they are recomputed by replay, a few kept). */
  readonly eager: boolean;
  private readonly features: readonly ScenarioFeature[];
  private readonly withCategories: boolean;
  /** snapshots.get(i) is the state after op i; -1 the empty arena. */
  private readonly snapshots = new Map<number, Snapshot>();
  private live: { session: ScenarioSession; index: number } | null = null;
  /** pageHistory results by page (a few kept). */
  private readonly histories = new Map<number, readonly PageEvent[]>();

  constructor(scenario: Scenario, options: ExplorerOptions = {}) {
    this.scenario = scenario;
    this.features = options.features ?? EXPLORER_FEATURES;
    this.skipReason = simulatorSkipReason(scenario);
    this.withCategories = options.categories ?? true;
    this.eager = scenario.arena_pages * 4 * (scenario.ops.length + 1) <= SNAPSHOT_BUDGET_BYTES;
    const started = performance.now();
    const session = this.newSession();
    if (this.eager) this.snapshots.set(-1, this.take(session, -1));
    const results: OpResult[] = [];
    scenario.ops.forEach((op, index) => {
      results.push(session.execute(op));
      if (this.eager || index === scenario.ops.length - 1) this.snapshots.set(index, this.take(session, index));
    });
    if (!this.eager) this.live = { session, index: scenario.ops.length - 1 };
    this.results = results;
    this.runMs = performance.now() - started;
  }

  get arenaPages(): number {
    return this.scenario.arena_pages;
  }

  /** Snapshots held now (all of them, ops + 1, when eager). */
  get snapshotCount(): number {
    return this.snapshots.size;
  }

  private take(session: ScenarioSession, index: number): Snapshot {
    const pages = this.arenaPages;
    const map = classifyArena(session.kernel, session.mm, session.arenaBase, pages);
    return { index, ...map, categories: this.withCategories ? scanCategories(session, pages) : null };
  }

  /** The state after op `index` (-1: before any op). */
  snapshot(index: number): Snapshot {
    const clamped = Math.max(-1, Math.min(index, this.scenario.ops.length - 1));
    const held = this.snapshots.get(clamped);
    if (held !== undefined) return held;
    // Recomputed by replay (only for scenarios too large to snapshot every op); the last op's stays.
    const snapshot = this.take(this.sessionAt(clamped), clamped);
    this.snapshots.set(clamped, snapshot);
    const last = this.scenario.ops.length - 1;
    for (const key of this.snapshots.keys()) {
      if (this.snapshots.size <= SNAPSHOT_CACHE) break;
      if (key !== last && key !== clamped) this.snapshots.delete(key);
    }
    return snapshot;
  }

  private newSession(): ScenarioSession {
    return createScenarioSession(this.scenario, { features: this.features });
  }

  /** A live session after op `index`, replayed (forward from the cached one when possible). */
  sessionAt(index: number): ScenarioSession {
    if (this.live === null || this.live.index > index) this.live = { session: this.newSession(), index: -1 };
    const live = this.live;
    while (live.index < index) {
      live.index++;
      live.session.execute(this.scenario.ops[live.index]!);
    }
    return live.session;
  }

  /** Byte address of an arena page. */
  addressOf(page: number): number {
    return this.sessionAt(-1).arenaBase + page * PAGE_SIZE;
  }

  /** The page-table tree of an arena page after op `index`. */
  tree(index: number, page: number): TreeInfo {
    const session = this.sessionAt(index);
    return pageTableTree(session.kernel, session.mm, session.arenaBase + page * PAGE_SIZE);
  }

  /**
   * Runs one more op (a PAGEMAP_SCAN with any arguments, a pagemap read, a
   * madvise ...) on a fresh replay of the state after op `index`, with
   * tracing on, and returns its result and every walk event in order.
   */
  trace(index: number, op: unknown): TraceRun {
    const parsedOp = parseOp(op, this.arenaPages);
    const session = this.newSession();
    for (let i = 0; i <= index && i < this.scenario.ops.length; i++) session.execute(this.scenario.ops[i]!);
    const events: TraceEvent[] = [];
    let dropped = 0;
    const restore = session.kernel.trace((event) => {
      if (events.length < TRACE_EVENT_CAP) events.push(event);
      else dropped++;
    });
    let result: OpResult;
    try {
      result = session.execute(parsedOp);
    } finally {
      restore();
    }
    return { op: parsedOp, result, events, dropped };
  }

  /**
   * Every mm trace event (fault path, zap, split, reclaim, madvise,
   * collapse) of the scenario's ops that concerns arena page `page`, oldest
   * first: a fresh replay with kernel.trace() on, keeping the events whose
   * range holds the page. A fault elsewhere in the same op that brought the
   * page in (a large folio, fault-around) comes along, marked `elsewhere`.
   */
  pageHistory(page: number): readonly PageEvent[] {
    const held = this.histories.get(page);
    if (held !== undefined) return held;
    const session = this.newSession();
    const address = session.arenaBase + page * PAGE_SIZE;
    const events: PageEvent[] = [];
    let op = 0;
    let fault: TraceMm | null = null;
    const restore = session.kernel.trace((event) => {
      if (event.type === 'walk_start' || event.type === 'walk_end' || event.type === 'callback') return;
      if (event.fn === 'handle_mm_fault') fault = event;
      if (address < event.addr || address >= event.end || events.length >= TRACE_EVENT_CAP) return;
      const last = events.at(-1);
      const pending = fault as TraceMm | null;
      if (pending !== null && pending !== event && (last === undefined || last.event !== pending)) events.push({ op, event: pending, elsewhere: true });
      events.push({ op, event, elsewhere: false });
    });
    try {
      for (; op < this.scenario.ops.length; op++) {
        fault = null;
        session.execute(this.scenario.ops[op]!);
      }
    } finally {
      restore();
    }
    if (this.histories.size >= SNAPSHOT_CACHE * 4) this.histories.delete(this.histories.keys().next().value!);
    this.histories.set(page, events);
    return events;
  }

  /** Why arena page `page` is what it is after op `index`, from its mm trace events. */
  why(index: number, page: number): WhyAnswer {
    const clamped = Math.max(-1, Math.min(index, this.scenario.ops.length - 1));
    const kind = this.snapshot(clamped).kinds[page] as WhyAnswer['kind'];
    return explainPage(this.pageHistory(page), clamped, page, kind, this.sessionAt(-1).arenaBase);
  }

  /** Arena page of a byte address. */
  pageOfAddress(address: number): number {
    return (address - this.sessionAt(-1).arenaBase) / PAGE_SIZE;
  }

  /** The simulator's results against recorded ones (canonical form), and the first difference. */
  diff(recorded: readonly OpResult[]): { simulator: OpResult[]; kernel: OpResult[]; first: ResultDifference | null } {
    const simulator = canonicalResults(this.results);
    const kernel = canonicalResults(recorded);
    return { simulator, kernel, first: firstDifference(kernel, simulator) };
  }
}
