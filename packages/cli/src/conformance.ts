// Conformance of the simulator to the kernel: one scenario's check, and the
// readable report of where the two first disagree.
import {
  DEVICE_OP_NAMES,
  canonicalResult,
  firstDifference,
  firstFieldDifference,
  scenarioUnderRecording,
  skipReason,
  type OpResult,
  type Scenario,
  type ScenarioOp,
} from '@pagewalk/scenario';
import { CORE_OP_HANDLERS, simulatorSkipReason } from '@pagewalk/scenario-runner';
import type { KernelExecutor } from './kernel-executor.js';

/** Runs a scenario on the simulator and returns its results. */
export type SimulateScenario = (scenario: Scenario) => OpResult[];

/** The first disagreement in a scenario. */
export interface ConformDifference {
  opIndex: number;
  op: ScenarioOp | undefined;
  field: string;
  /** What the simulator was held against: the kernel's result, or the op's `expect`. */
  reference: 'kernel' | 'expect' | 'simulator support';
  expected: unknown;
  actual: unknown;
  referenceResult: unknown;
  simulatorResult: OpResult | undefined;
}

export type ConformOutcome =
  | { status: 'match'; against: 'kernel' | 'expectations' }
  | { status: 'mismatch'; difference: ConformDifference }
  | { status: 'skipped'; reason: string };

const deviceOps: readonly string[] = DEVICE_OP_NAMES;

/** Whether the scenario uses simulator-only device ops (then its `expect`s are the reference). */
export function usesDeviceOps(scenario: Scenario): boolean {
  return scenario.ops.some((op) => deviceOps.includes(op.op));
}

function earliest(differences: (ConformDifference | null)[]): ConformDifference | null {
  let best: ConformDifference | null = null;
  for (const difference of differences) {
    if (difference !== null && (best === null || difference.opIndex < best.opIndex)) best = difference;
  }
  return best;
}

/**
 * Checks one scenario: the simulator against the kernel (or, for scenarios
 * with device ops, against the `expect` of its ops). Every `expect` is
 * checked too, and an op the simulator does not support is a mismatch.
 */
export async function checkScenario(scenario: Scenario, simulate: SimulateScenario, kernel: KernelExecutor): Promise<ConformOutcome> {
  const skip = skipReason(scenario);
  if (skip !== null) return { status: 'skipped', reason: skip };
  const deviceScenario = usesDeviceOps(scenario);
  const kernelRun = deviceScenario ? undefined : await kernel.run(scenario);
  if (kernelRun !== undefined && 'skipped' in kernelRun) return { status: 'skipped', reason: `kernel: ${kernelRun.skipped}` };
  // The simulator runs under the whole profile the kernel ran under (zero page, swap device, THP modes...).
  const effective = kernelRun?.profile === undefined ? scenario : scenarioUnderRecording(scenario, kernelRun.profile);
  const notModelled = simulatorSkipReason(effective);
  if (notModelled !== null) return { status: 'skipped', reason: notModelled };
  const simulated = simulate(effective);

  const unsupportedIndex = simulated.findIndex((result) => result.unsupported === true);
  const unsupported: ConformDifference | null =
    unsupportedIndex === -1
      ? null
      : {
          opIndex: unsupportedIndex,
          op: scenario.ops[unsupportedIndex],
          field: 'unsupported',
          reference: 'simulator support',
          expected: 'an op the simulator implements',
          actual: 'unsupported',
          referenceResult: undefined,
          simulatorResult: simulated[unsupportedIndex],
        };

  let expectation: ConformDifference | null = null;
  for (const [opIndex, op] of scenario.ops.entries()) {
    const actual = simulated[opIndex];
    if (op.expect === undefined || actual === undefined || actual.unsupported) continue;
    // An expect omits "op"; name it so its lists are canonicalised in that op's order.
    const difference = firstFieldDifference({ op: op.op, ...op.expect }, actual, { onlyExpectedFields: true });
    if (difference !== null) {
      expectation = { opIndex, op, reference: 'expect', ...difference, referenceResult: op.expect, simulatorResult: actual };
      break;
    }
  }

  if (kernelRun === undefined) {
    const difference = earliest([unsupported, expectation]);
    return difference === null ? { status: 'match', against: 'expectations' } : { status: 'mismatch', difference };
  }

  const kernelDifference = firstDifference(kernelRun.results, simulated);
  const againstKernel: ConformDifference | null =
    kernelDifference === null
      ? null
      : {
          ...kernelDifference,
          op: scenario.ops[kernelDifference.opIndex],
          reference: 'kernel',
          referenceResult: kernelRun.results[kernelDifference.opIndex],
          simulatorResult: simulated[kernelDifference.opIndex],
        };
  // On a tie the unsupported op is the better explanation, so it comes first.
  const difference = earliest([unsupported, againstKernel, expectation]);
  return difference === null ? { status: 'match', against: 'kernel' } : { status: 'mismatch', difference };
}

const compact = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));

/** `madvise page=0 pages=2 advice=dontneed`: the op as a reader would write it. */
export function describeOp(op: ScenarioOp): string {
  const parts: string[] = [op.op];
  for (const [key, value] of Object.entries(op)) {
    if (key === 'op' || key === 'expect') continue;
    if (Array.isArray(value)) parts.push(`${key}=${value.length === 0 ? '[]' : value.join(',')}`);
    else if (typeof value === 'object' && value !== null) parts.push(`${key}=${JSON.stringify(value)}`);
    else parts.push(`${key}=${String(value)}`);
  }
  return parts.join(' ');
}

/** The indented lines that explain a difference. */
export function formatDifference(difference: ConformDifference): string[] {
  const opText = difference.op === undefined ? '(no such op)' : describeOp(difference.op);
  const lines = [`op ${difference.opIndex}: ${opText}`];
  if (difference.reference === 'simulator support') {
    const name = difference.op?.op ?? '?';
    // Core ops are always there: an unsupported one is a case the simulator does not model.
    lines.push(
      name in CORE_OP_HANDLERS
        ? `  the simulator does not model this case of "${name}" (reported unsupported)`
        : `  the simulator does not support "${name}" (its feature package is not installed)`,
    );
    return lines;
  }
  const label = difference.reference === 'kernel' ? 'kernel' : 'expect';
  const width = Math.max(label.length, 'simulator'.length);
  lines.push(`  field ${difference.field}: ${label} ${compact(difference.expected)}, simulator ${compact(difference.actual)}`);
  const reference = difference.referenceResult === undefined ? undefined : canonicalResult(difference.referenceResult as OpResult);
  const simulator = difference.simulatorResult === undefined ? undefined : canonicalResult(difference.simulatorResult);
  lines.push(`  ${label.padEnd(width)}  ${compact(reference)}`);
  lines.push(`  ${'simulator'.padEnd(width)}  ${compact(simulator)}`);
  return lines;
}
