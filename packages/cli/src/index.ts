// @pagewalk/cli: the pagewalk command line, and (re-exported from
// @pagewalk/scenario-runner) the scenario executor it uses, for programs that
// set up state with a scenario and walk it themselves.
export { CliError, UsageError } from './cli-error.js';
export { checkScenario, describeOp, formatDifference, usesDeviceOps } from './conformance.js';
export type { ConformDifference, ConformOutcome, SimulateScenario } from './conformance.js';
export { describeResult, formatDemo, runDemo } from './demo.js';
export type { DemoResult, DemoRow, DemoStep } from './demo.js';
export { featurePackageNames, loadScenarioFeatures } from './feature-loader.js';
export { runFuzz, scenarioArbitrary } from './fuzz.js';
export type { FuzzMismatch, FuzzOptions, FuzzProgress, FuzzReport, ScenarioArbitraryOptions } from './fuzz.js';
export { KernelRunError, loadKernelExecutor } from './kernel-executor.js';
export type { KernelExecutor, KernelRun } from './kernel-executor.js';
export { main, processIo } from './main.js';
export type { CliDependencies, CliIo } from './main.js';
export {
  DEFAULT_ARENA_BASE,
  PAGE_SIZE,
  createScenarioSession,
  kernelProfileOf,
  runScenario,
  ADVICE_VALUES,
  CORE_OP_HANDLERS,
  CORE_OP_NAMES,
  PROT_VALUES,
  signalOf,
  syscallResult,
} from '@pagewalk/scenario-runner';
export type {
  KernelFeature,
  ScenarioContext,
  ScenarioFeature,
  ScenarioOpHandler,
  ScenarioRun,
  ScenarioSession,
  ScenarioSessionOptions,
  SimulatedKernel,
  SimulatedMm,
} from '@pagewalk/scenario-runner';
