/**
 * The package's one plugin object (the contract of @pagewalk/scenario's
 * FeaturePlugin): the kernel half and the `dev_*` scenario ops.
 */
import type { DependencyContainer, Kernel, Mm } from '@pagewalk/core-walk';
import type { FeaturePlugin } from '@pagewalk/scenario';
import { hmmMigrate } from './register.js';
import { scenarioOps } from './scenario-ops.js';

export const plugin = Object.freeze<FeaturePlugin<DependencyContainer, Kernel, Mm>>({
  ...hmmMigrate,
  summary: 'device-private migration (HMM test driver)',
  ops: scenarioOps,
});
