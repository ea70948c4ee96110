// Runs scenario ops on the simulator. Each op name is dispatched through one
// table of handlers: the core handlers (core-op-handlers.ts) plus the ops of
// the loaded feature plugins (scan, pagemap, uffd_*, dev_*); two features
// claiming one op is an error. An op with no handler gives
// `{"op": ..., "unsupported": true}`, exactly as the format allows.
import { createKernel, type DependencyContainer, type Feature, type Kernel, type KernelProfile, type Mm } from '@pagewalk/core-walk';
import {
  type FeaturePlugin,
  type OpName,
  type OpResult,
  type Scenario,
  type ScenarioOp,
  type ScenarioOpContext,
  type ScenarioOpHandler as ContractOpHandler,
  type UffdFault,
} from '@pagewalk/scenario';
import { ADVICE_VALUES } from './core-op-handlers.js';
import { FeaturePluginError, featureOpHandlers } from './feature-module.js';

export const PAGE_SIZE = 4096;
/** Byte address of the arena's page 0: 1 GiB aligned, in the upper user half like the kernel's mmap base. */
export const DEFAULT_ARENA_BASE = 0x7e00_0000_0000;

export type SimulatedKernel = Kernel;
export type SimulatedMm = Mm;
/** A feature plugin's kernel half, as `createKernel({ features })` takes it. */
export type KernelFeature = Feature;

/** What an op handler sees (@pagewalk/scenario's ScenarioOpContext over the simulator's kernel and mm). */
export type ScenarioContext = ScenarioOpContext<SimulatedKernel, SimulatedMm>;

/** Executes one op and returns its result (without `uffd`: the session adds recorded faults). */
export type ScenarioOpHandler = ContractOpHandler<SimulatedKernel, SimulatedMm>;

/**
 * A feature package's `plugin` (@pagewalk/scenario's FeaturePlugin over the
 * simulator's types): its kernel half (`name`, `install`), the handlers of
 * the ops it implements and the madvise advice it adds.
 */
export type ScenarioFeature = FeaturePlugin<DependencyContainer, SimulatedKernel, SimulatedMm>;

export interface ScenarioSessionOptions {
  /** Feature plugins to enable (packages' `plugin` exports, or the CLI's loadScenarioFeatures); none by default. */
  features?: readonly ScenarioFeature[];
  /** Byte address of page 0; must be 1 GiB aligned. */
  arenaBase?: number;
}

/**
 * The simulator configuration for a scenario's profile: the keys it sets,
 * over the core's default (this machine). Unknown keys are the caller's
 * business (see skipReason).
 */
export function kernelProfileOf(profile: Scenario['profile']): Partial<KernelProfile> {
  const overrides: { -readonly [Key in keyof KernelProfile]?: KernelProfile[Key] } = {};
  if (profile?.thp !== undefined) overrides.thp = profile.thp;
  if (profile?.thp_zero_page !== undefined) overrides.thpZeroPage = profile.thp_zero_page;
  if (profile?.soft_dirty !== undefined) overrides.softDirty = profile.soft_dirty;
  if (profile?.swap !== undefined) {
    overrides.swap = profile.swap !== false;
    if (typeof profile.swap === 'string') overrides.swapDevice = profile.swap;
  }
  if (profile?.zero_page !== undefined) overrides.zeroPage = profile.zero_page;
  if (profile?.hugetlb_pages !== undefined) overrides.hugetlbPages = profile.hugetlb_pages;
  // The format's sizes and modes are core-walk's (16kB … 2048kB; always / inherit / madvise / never).
  if (profile?.mthp !== undefined) overrides.mthp = { ...profile.mthp };
  return overrides;
}

/**
 * Why the simulator cannot run a scenario as its profile asks, or null.
 * Every profile the format can state is modelled, anonymous mTHP sizes
 * included (the `mthp` key sets anonymous sizes only; shmem and file
 * folios have sysfs knobs of their own that the format does not express).
 * Kept so callers keep one place to ask.
 */
export function simulatorSkipReason(_scenario: Pick<Scenario, 'profile'>): string | null {
  return null;
}

/** One simulated process running a scenario op by op. */
export interface ScenarioSession {
  readonly kernel: SimulatedKernel;
  readonly mm: SimulatedMm;
  readonly arenaBase: number;
  /** Whether the simulator has a handler for this op. */
  supports(op: OpName): boolean;
  execute(op: ScenarioOp): OpResult;
}

export function createScenarioSession(scenario: Pick<Scenario, 'arena_pages' | 'profile'>, options: ScenarioSessionOptions = {}): ScenarioSession {
  const arenaBase = options.arenaBase ?? DEFAULT_ARENA_BASE;
  if (arenaBase % 2 ** 30 !== 0) throw new RangeError(`arenaBase ${arenaBase} is not 1 GiB aligned`);
  const features = options.features ?? [];
  const handlers = featureOpHandlers(features);
  const kernel = createKernel({ profile: kernelProfileOf(scenario.profile), features });
  for (const feature of features) {
    for (const advice of feature.advice ?? []) {
      if (!kernel.madviseBehaviors.has(ADVICE_VALUES[advice])) {
        throw new FeaturePluginError(`feature "${feature.name}" declares madvise advice "${advice}" but its install() registers no madvise behaviour for it`);
      }
    }
  }
  const mm = kernel.createMm();

  let faults: UffdFault[] = [];
  const context: ScenarioContext = {
    kernel,
    mm,
    arenaBase,
    arenaPages: scenario.arena_pages,
    addressOf: (page) => arenaBase + page * PAGE_SIZE,
    pageOf: (address) => (address - arenaBase) / PAGE_SIZE,
    recordUffdFault: (fault) => {
      faults.push(fault);
    },
    featureState: new Map(),
  };

  return {
    kernel,
    mm,
    arenaBase,
    supports: (op) => handlers[op] !== undefined,
    execute(op) {
      const handler = handlers[op.op];
      if (handler === undefined) return { op: op.op, unsupported: true };
      faults = [];
      const result = handler(op, context);
      return faults.length > 0 ? { ...result, uffd: faults } : result;
    },
  };
}

export interface ScenarioRun {
  results: OpResult[];
  mm: SimulatedMm;
  kernel: SimulatedKernel;
  /** Byte address of the arena's page 0 (1 GiB aligned). */
  arenaBase: number;
}

/**
 * Runs a parsed scenario on the simulator and returns its results together
 * with the simulated kernel and process, so a program can set up state with a
 * scenario and then walk it with its own walker. Unknown profile keys are not
 * checked here; callers that must skip such scenarios use skipReason first.
 */
export function runScenario(scenario: Pick<Scenario, 'arena_pages' | 'profile' | 'ops'>, options: ScenarioSessionOptions = {}): ScenarioRun {
  const session = createScenarioSession(scenario, options);
  const results = scenario.ops.map((op) => session.execute(op));
  return { results, mm: session.mm, kernel: session.kernel, arenaBase: session.arenaBase };
}
