// `pagewalk run --trace[=KINDS]`: the scenario run op by op with core-walk's
// kernel.trace() on; every event is printed as a JSON line
// {"op": index, "trace": event} before the scenario's results line. Events
// are the walks' (walk_start, callback, walk_end: kind "walk") and the mm
// decisions' (kinds fault, zap, split, reclaim, madvise, collapse), each
// named after the 6.18 function it models; KINDS keeps only the listed ones.
import type { TraceEvent } from '@pagewalk/core-walk';
import type { OpResult, Scenario } from '@pagewalk/scenario';
import { createScenarioSession, type ScenarioFeature } from '@pagewalk/scenario-runner';

/** The kinds `--trace=` accepts. */
export const TRACE_KINDS = ['walk', 'fault', 'zap', 'split', 'reclaim', 'madvise', 'collapse'] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];

/** An event's kind: "walk" for walk_start / callback / walk_end, else the mm event's type. */
export function traceKind(event: TraceEvent): TraceKind {
  return event.type === 'walk_start' || event.type === 'walk_end' || event.type === 'callback' ? 'walk' : event.type;
}

/** Parses `--trace=walk,fault`; returns the unknown name as an error string. */
export function parseTraceKinds(list: string): ReadonlySet<TraceKind> | string {
  const kinds = new Set<TraceKind>();
  for (const name of list.split(',')) {
    const kind = TRACE_KINDS.find((k) => k === name.trim());
    if (kind === undefined) return `unknown trace kind "${name}" (one of ${TRACE_KINDS.join(', ')})`;
    kinds.add(kind);
  }
  return kinds;
}

export function runTraced(
  scenario: Scenario,
  features: readonly ScenarioFeature[],
  write: (line: string) => void,
  kinds: ReadonlySet<TraceKind> | null = null,
): OpResult[] {
  const session = createScenarioSession(scenario, { features });
  let index = 0;
  session.kernel.trace((event) => {
    if (kinds === null || kinds.has(traceKind(event))) write(`${JSON.stringify({ op: index, trace: event })}\n`);
  });
  const results: OpResult[] = [];
  for (; index < scenario.ops.length; index++) results.push(session.execute(scenario.ops[index]!));
  session.kernel.trace(null);
  return results;
}
