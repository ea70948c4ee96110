/**
 * @pagewalk/uffd-wp — userfaultfd on the pagewalk simulator
 * (fs/userfaultfd.c, mm/userfaultfd.c): contexts with UFFDIO_API feature
 * negotiation, MISSING / WP / MINOR registration, UFFDIO_WRITEPROTECT,
 * ZEROPAGE, COPY, CONTINUE and WAKE, synchronous faults answered by a
 * handler callback, and WP_ASYNC dirty tracking.
 */
export { plugin } from './plugin.js';
export { uffdWp } from './register.js';
export { userfaultfd, UserfaultfdCtx, vmaCanUserfault } from './userfaultfd-ctx.js';
export type {
  UffdioApi,
  UffdioRange,
  UffdioRegister,
  UffdioWriteprotect,
  UffdioZeropage,
  UffdioCopy,
  UffdioContinue,
  UffdMsg,
  UffdPagefaultMsg,
  UffdForkMsg,
  UffdHandler,
  UserfaultfdStats,
  UserfaultfdOptions,
} from './userfaultfd-ctx.js';
export { UffdWp, PagemapScanUffdQuery, uffdWpService } from './service.js';
export { uffdWpRange, isUffdWpProtected } from './wp-range.js';
export { pagemapWpOps } from './pagemap-wp.js';
export { isWpAsync, isWpRegistered, isWpUnpopulated, useMarkers } from './vma-state.js';
export { pagefaultFlags } from './fault-handler.js';
export { scenarioOps, scenarioFaultHandler, scenarioUffd, faultFlagNames, UFFD_MODE_BITS } from './scenario-ops.js';
export type { ScenarioContext, ScenarioOpHandler, UffdScenarioState } from './scenario-ops.js';
export * from './uapi.js';
