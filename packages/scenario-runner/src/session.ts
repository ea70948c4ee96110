// @pagewalk/scenario-runner/session: the scenario session API without the
// recorded-corpus loader (which reads files with node:fs), for bundling
// into browser code such as @pagewalk/explorer.
export {
  DEFAULT_ARENA_BASE,
  PAGE_SIZE,
  createScenarioSession,
  kernelProfileOf,
  runScenario,
  simulatorSkipReason,
} from './scenario-session.js';
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
} from './scenario-session.js';
export { ADVICE_VALUES, CORE_OP_HANDLERS, CORE_OP_NAMES, PROT_VALUES, signalOf, syscallResult } from './core-op-handlers.js';
export { FeaturePluginError, checkFeaturePlugins, featureAdvice, featureOpHandlers, featureOps, featurePluginOf, scenarioFeatureOf } from './feature-module.js';
export { coreAdviceNames, describeMissing, missingCapabilities, missingCapability, usesAnyOp } from './capabilities.js';
export type { MissingCapability } from './capabilities.js';
