// Turns a feature package's module namespace into a ScenarioFeature: the
// pure half of the CLI's feature loader (which finds and imports the
// packages at run time). Feature packages use it in their own tests, with
// `import * as feature from './index.js'`, to run scenarios on exactly the
// capabilities they declare.
//
// Integration contract for a feature package (both exports optional):
//   export const scenarioOps: Partial<Record<OpName, ScenarioOpHandler>>
//     handlers for the scenario ops it implements (see scenario-session.ts);
//   any exported walk-feature plugin object `{ name: string, install: Function }`
//     is handed to createKernel({ features }).
// A package may instead export `scenarioFeature: ScenarioFeature` directly.
import type { OpName } from '@pagewalk/scenario';
import type { KernelFeature, ScenarioFeature, ScenarioOpHandler } from './scenario-session.js';

function isKernelFeature(value: unknown): value is KernelFeature {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { install?: unknown }).install === 'function'
  );
}

/**
 * The scenario adapter of a loaded feature module: its ready
 * `scenarioFeature` if it exports one, else `name` with its `scenarioOps`
 * and every exported kernel plugin.
 */
export function scenarioFeatureOf(name: string, module: Readonly<Record<string, unknown>>): ScenarioFeature {
  const ready = module.scenarioFeature;
  if (typeof ready === 'object' && ready !== null && typeof (ready as { name?: unknown }).name === 'string') return ready as ScenarioFeature;
  const ops = (module.scenarioOps ?? {}) as Partial<Record<OpName, ScenarioOpHandler>>;
  const kernelFeatures = [...new Set(Object.values(module).filter(isKernelFeature))];
  return { name, kernelFeatures, ops };
}
