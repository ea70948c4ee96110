// The one contract of a pagewalk feature package: it exports a single
// object, `plugin`, that says everything the simulator, the scenario runner
// and the CLI need to know about it. The types are structural: the format
// package depends on no simulator package, so the container, kernel and mm
// types are parameters (core-walk's DependencyContainer, Kernel and Mm).
import type { AdviceName, OpName } from './names.js';
import type { OpResult, ScenarioOp, UffdFault } from './scenario-types.js';

/** What an op handler sees of the scenario session running it. */
export interface ScenarioOpContext<Kernel = unknown, Mm = unknown> {
  readonly kernel: Kernel;
  readonly mm: Mm;
  /** Byte address of page 0 of the arena. */
  readonly arenaBase: number;
  readonly arenaPages: number;
  /** Byte address of an arena page. */
  addressOf(page: number): number;
  /** Arena page of a byte address (inverse of addressOf; may be fractional for unaligned addresses). */
  pageOf(address: number): number;
  /** Lists a userfaultfd fault the runner's handler answered; it lands in the current op's `uffd`. */
  recordUffdFault(fault: UffdFault): void;
  /** Per-scenario state of features (for example the one userfaultfd), keyed by feature name. */
  readonly featureState: Map<string, unknown>;
}

/** Executes one op and returns its result (without `uffd`: the session adds recorded faults). */
export type ScenarioOpHandler<Kernel = unknown, Mm = unknown> = (op: ScenarioOp, context: ScenarioOpContext<Kernel, Mm>) => OpResult;

/** The scenario ops a feature handles, by op name. */
export type ScenarioOpHandlers<Kernel = unknown, Mm = unknown> = { readonly [Name in OpName]?: ScenarioOpHandler<Kernel, Mm> };

/**
 * A feature package's plugin, exported as `plugin` from its index:
 *
 * - `name`, `install`: the kernel half, a core-walk `Feature` as it stands
 *   (`createKernel({ features: [plugin] })` installs it);
 * - `ops`: the handlers of the scenario ops it implements; two features
 *   claiming one op name (or a feature claiming a core op) is an error;
 * - `advice`: the madvise advice it adds (SCENARIO.md names); without the
 *   feature such advice is EINVAL, as on a kernel without it;
 * - `summary`: what it adds, in a few words, for messages and the demo.
 *
 * The CLI finds the installed feature packages by the `pagewalk-feature`
 * keyword of their package.json and derives every list (packages, op
 * names, advice names) from their plugins.
 */
export interface FeaturePlugin<Container = never, Kernel = unknown, Mm = unknown> {
  /** Unique name: the package's directory name, e.g. "pagemap-scan". */
  readonly name: string;
  /** What it adds, in a few words ("PAGEMAP_SCAN and /proc/self/pagemap"). */
  readonly summary: string;
  /** Registers the feature's kernel services in the kernel's container (core-walk Feature.install). */
  install(container: Container): void;
  readonly ops?: ScenarioOpHandlers<Kernel, Mm>;
  readonly advice?: readonly AdviceName[];
}

/** The keyword in a feature package's package.json that makes the CLI load it. */
export const FEATURE_PACKAGE_KEYWORD = 'pagewalk-feature';
