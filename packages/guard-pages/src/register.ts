/**
 * The guard-pages feature plugin: the only file that touches the DI
 * container. It registers the two madvise behaviours under the core's
 * MadviseBehaviorToken; madvise() then calls them VMA by VMA.
 */
import {
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MadviseBehaviorToken,
  type DependencyContainer,
  type Feature,
  type MadviseBehavior,
} from '@pagewalk/core-walk';
import { guardInstallVma } from './guard-install.js';
import { guardRemoveVma } from './guard-remove.js';

/** MADV_GUARD_INSTALL (102). */
export const guardInstallBehavior: MadviseBehavior = Object.freeze({
  advice: MADV_GUARD_INSTALL,
  name: 'guard_install',
  applyToVma: guardInstallVma,
});

/** MADV_GUARD_REMOVE (103). */
export const guardRemoveBehavior: MadviseBehavior = Object.freeze({
  advice: MADV_GUARD_REMOVE,
  name: 'guard_remove',
  applyToVma: guardRemoveVma,
});

/** The feature: `createKernel({ features: [guardPages] })`. */
export const guardPages: Feature = Object.freeze({
  name: 'guard-pages',
  install(container: DependencyContainer): void {
    container.register(MadviseBehaviorToken, { useValue: guardInstallBehavior });
    container.register(MadviseBehaviorToken, { useValue: guardRemoveBehavior });
  },
});
