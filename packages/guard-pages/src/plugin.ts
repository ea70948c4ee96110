/**
 * The package's one plugin object (the contract of @pagewalk/scenario's
 * FeaturePlugin). guard-pages adds no scenario op: its advice goes through
 * the core `madvise` op, and without this feature it is EINVAL.
 */
import type { DependencyContainer, Kernel, Mm } from '@pagewalk/core-walk';
import type { FeaturePlugin } from '@pagewalk/scenario';
import { guardPages } from './register.js';

// `satisfies`, not an annotation: the contract is checked here, and the
// emitted types stay free of @pagewalk/scenario (a dev dependency only).
export const plugin = Object.freeze({
  ...guardPages,
  summary: 'MADV_GUARD_INSTALL / MADV_GUARD_REMOVE',
  advice: ['guard_install', 'guard_remove'] as const,
} satisfies FeaturePlugin<DependencyContainer, Kernel, Mm>);
