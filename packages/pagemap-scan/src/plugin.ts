/**
 * The package's one plugin object (the contract of @pagewalk/scenario's
 * FeaturePlugin): the kernel half, and the `scan` and `pagemap` scenario ops.
 */
import type { DependencyContainer, Kernel, Mm } from '@pagewalk/core-walk';
import type { FeaturePlugin } from '@pagewalk/scenario';
import { pagemapScanFeature } from './register.js';
import { scenarioOps } from './scenario-ops.js';

export const plugin = Object.freeze<FeaturePlugin<DependencyContainer, Kernel, Mm>>({
  ...pagemapScanFeature,
  summary: 'PAGEMAP_SCAN and /proc/self/pagemap',
  ops: scenarioOps,
});
