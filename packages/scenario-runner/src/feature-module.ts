// Feature plugins (@pagewalk/scenario's FeaturePlugin contract) as the
// runner sees them: a feature package exports one object, `plugin`, and
// everything the runner and the CLI need (kernel half, op handlers, advice)
// comes from it. This module takes a loaded module's plugin and checks a
// set of plugins against each other: two features claiming one op name,
// one advice name or one feature name is an error, never a silent winner.
import { ADVICE_NAMES, OP_NAMES, type AdviceName, type OpName } from '@pagewalk/scenario';
import { CORE_OP_HANDLERS } from './core-op-handlers.js';
import type { ScenarioFeature, ScenarioOpHandler } from './scenario-session.js';

/** A feature plugin that is malformed or conflicts with another (or with the core). */
export class FeaturePluginError extends Error {
  override readonly name = 'FeaturePluginError';
}

function isPlugin(value: unknown): value is ScenarioFeature {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { install?: unknown }).install === 'function'
  );
}

/**
 * The `plugin` export of a loaded feature module (`import * as module`),
 * checked; `source` names the module in the error.
 */
export function featurePluginOf(module: Readonly<Record<string, unknown>>, source: string): ScenarioFeature {
  const plugin = module.plugin;
  if (!isPlugin(plugin)) throw new FeaturePluginError(`${source} exports no feature plugin: \`export const plugin\` must be an object with a name and install() (FeaturePlugin of @pagewalk/scenario)`);
  return plugin;
}

/**
 * @deprecated Use the package's `plugin` export directly (or
 * `featurePluginOf(module, source)` for a module loaded at run time). Kept
 * as a thin wrapper: returns the module's `plugin`.
 */
export function scenarioFeatureOf(name: string, module: Readonly<Record<string, unknown>>): ScenarioFeature {
  return featurePluginOf(module, name);
}

/**
 * The handler table of the core ops plus `features`' ops. Throws
 * FeaturePluginError when two features share a name, a feature claims an
 * op the core handles or another feature claims, or names an op or advice
 * SCENARIO.md does not have.
 */
export function featureOpHandlers(features: readonly ScenarioFeature[]): Partial<Record<OpName, ScenarioOpHandler>> {
  const handlers: Partial<Record<OpName, ScenarioOpHandler>> = { ...CORE_OP_HANDLERS };
  const opOwner = new Map<string, string>();
  const adviceOwner = new Map<string, string>();
  const names = new Set<string>();
  for (const feature of features) {
    if (names.has(feature.name)) throw new FeaturePluginError(`feature "${feature.name}" is loaded twice`);
    names.add(feature.name);
    for (const [op, handler] of Object.entries(feature.ops ?? {})) {
      if (handler === undefined) continue;
      if (!(OP_NAMES as readonly string[]).includes(op)) throw new FeaturePluginError(`feature "${feature.name}" claims scenario op "${op}", which SCENARIO.md does not define`);
      const owner = opOwner.get(op);
      if (owner !== undefined) throw new FeaturePluginError(`scenario op "${op}" is claimed by two features: "${owner}" and "${feature.name}"`);
      if (handlers[op as OpName] !== undefined) throw new FeaturePluginError(`feature "${feature.name}" claims scenario op "${op}", which the core handles`);
      opOwner.set(op, feature.name);
      handlers[op as OpName] = handler;
    }
    for (const advice of feature.advice ?? []) {
      if (!(ADVICE_NAMES as readonly string[]).includes(advice)) throw new FeaturePluginError(`feature "${feature.name}" claims madvise advice "${advice}", which SCENARIO.md does not define`);
      const owner = adviceOwner.get(advice);
      if (owner !== undefined) throw new FeaturePluginError(`madvise advice "${advice}" is claimed by two features: "${owner}" and "${feature.name}"`);
      adviceOwner.set(advice, feature.name);
    }
  }
  return handlers;
}

/** Checks that `features` can be loaded together (see featureOpHandlers); returns them. */
export function checkFeaturePlugins<Features extends readonly ScenarioFeature[]>(features: Features): Features {
  featureOpHandlers(features);
  return features;
}

/** The scenario ops `features` add, in their order. */
export function featureOps(features: readonly ScenarioFeature[]): OpName[] {
  return features.flatMap((feature) => Object.keys(feature.ops ?? {}) as OpName[]);
}

/** The madvise advice `features` add, in their order. */
export function featureAdvice(features: readonly ScenarioFeature[]): AdviceName[] {
  return features.flatMap((feature) => [...(feature.advice ?? [])]);
}
