// Which ops of a scenario a given set of features cannot run. A feature
// package's tests use it to pick the corpus scenarios its own capabilities
// cover, or to compare a scenario only up to the first op they do not.
import { createKernel, Errno } from '@pagewalk/core-walk';
import { ADVICE_NAMES, type AdviceName, type OpName, type Scenario, type ScenarioOp } from '@pagewalk/scenario';
import { ADVICE_VALUES } from './core-op-handlers.js';
import { createScenarioSession, type ScenarioFeature, type ScenarioSession } from './scenario-session.js';

let coreAdvice: ReadonlySet<AdviceName> | null = null;

/**
 * The advice SCENARIO.md names that the simulator's core implements by
 * itself, asked of a kernel without features the way a program asks Linux:
 * a zero-length madvise is 0 for an advice the kernel knows and EINVAL
 * otherwise. The rest (guard_install, guard_remove) is a feature's to add.
 */
export function coreAdviceNames(): ReadonlySet<AdviceName> {
  if (coreAdvice === null) {
    const mm = createKernel().createMm();
    coreAdvice = new Set(ADVICE_NAMES.filter((advice) => mm.madvise(0, 0, ADVICE_VALUES[advice]) !== -Errno.EINVAL));
  }
  return coreAdvice;
}

export interface MissingCapability {
  /** Index of the op in the scenario. */
  readonly index: number;
  /** What is missing: the op name, or `madvise <advice>`. */
  readonly need: string;
}

/** What `session` lacks to run `op` as the kernel would, or null. */
export function missingCapability(session: Pick<ScenarioSession, 'supports' | 'kernel'>, op: ScenarioOp): string | null {
  if (!session.supports(op.op)) return op.op;
  if (op.op === 'madvise' && !coreAdviceNames().has(op.advice) && !session.kernel.madviseBehaviors.has(ADVICE_VALUES[op.advice])) {
    return `madvise ${op.advice}`;
  }
  return null;
}

/** The ops of `scenario` that the simulator with only `features` cannot run, in order. */
export function missingCapabilities(scenario: Pick<Scenario, 'ops'>, features: readonly ScenarioFeature[]): MissingCapability[] {
  const probe = createScenarioSession({ arena_pages: 1 }, { features });
  const missing: MissingCapability[] = [];
  scenario.ops.forEach((op, index) => {
    const need = missingCapability(probe, op);
    if (need !== null) missing.push({ index, need });
  });
  return missing;
}

/** The distinct names of what is missing (for skip messages). */
export function describeMissing(missing: readonly MissingCapability[]): string {
  return [...new Set(missing.map((entry) => entry.need))].join(', ');
}

/** Whether any op of `scenario` is one of `ops`. */
export function usesAnyOp(scenario: Pick<Scenario, 'ops'>, ops: readonly OpName[]): boolean {
  return scenario.ops.some((op) => ops.includes(op.op));
}
