/**
 * @pagewalk/guard-pages — lightweight guard regions (MADV_GUARD_INSTALL /
 * MADV_GUARD_REMOVE, mm/madvise.c) for the simulated mm.
 *
 * Install the feature with `createKernel({ features: [guardPages] })`; then
 * `mm.madvise(addr, len, MADV_GUARD_INSTALL | MADV_GUARD_REMOVE)` works as
 * on Linux 6.18. The walk ops and per-VMA steps are exported for reuse and
 * inspection.
 */
export { plugin } from './plugin.js';
export { guardPages, guardInstallBehavior, guardRemoveBehavior } from './register.js';
export {
  guardInstallWalkOps,
  guardInstallVma,
  MAX_GUARD_INSTALL_ATTEMPTS,
  MAX_GUARD_INSTALL_RESTARTS,
} from './guard-install.js';
export type { GuardInstallState } from './guard-install.js';
export { guardRemoveWalkOps, guardRemoveVma } from './guard-remove.js';
export type { GuardRemoveState } from './guard-remove.js';
export { isValidGuardVma } from './guard-vma.js';
export { MADV_GUARD_INSTALL, MADV_GUARD_REMOVE } from '@pagewalk/core-walk';
