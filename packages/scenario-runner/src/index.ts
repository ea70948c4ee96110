// @pagewalk/scenario-runner: runs SCENARIO.md scenarios on the simulator.
// The CLI re-exports this API; feature packages use it in their tests.
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
export { CORPUS_DIRECTORY, REPOSITORY_ROOT, loadCorpus, recordedResults, recordingFiles } from './recorded-corpus.js';
export type { CorpusEntry } from './recorded-corpus.js';
