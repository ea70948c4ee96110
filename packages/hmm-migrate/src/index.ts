/**
 * @pagewalk/hmm-migrate — heterogeneous memory management on the pagewalk
 * simulator: device-private memory with migrate_to_ram on CPU fault,
 * migrate_vma (mm/migrate_device.c), hmm_range_fault (mm/hmm.c), device
 * exclusive access, and the HMM test driver (lib/test_hmm.c) as a device
 * API and as the `dev_*` scenario ops.
 */
export { plugin } from './plugin.js';
export { hmmMigrate } from './register.js';
export { HmmRegistry, HmmRegistryToken, hmmRegistryOf, HMM_SERVICE_NAME } from './device-pagemap.js';
export type { DeviceFault, DevicePagemap, DevicePagemapOps } from './device-pagemap.js';
export {
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_SHIFT,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MigrateVmaSelect,
  migratePfn,
  migratePfnToPfn,
} from './migrate-pfn.js';
export {
  allocSystemPage,
  createMigrateVma,
  migrateCollectWalkOps,
  migrateDeviceFinalize,
  migrateDevicePages,
  migrateDevicePfns,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from './migrate-vma.js';
export type { MigrateCollectState, MigrateDevice, MigrateVma, MigrateVmaOptions, MigrationBatch } from './migrate-vma.js';
export {
  HMM_PFN_DMA_MAPPED,
  HMM_PFN_ERROR,
  HMM_PFN_INOUT_FLAGS,
  HMM_PFN_ORDER_MASK,
  HMM_PFN_P2PDMA,
  HMM_PFN_P2PDMA_BUS,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  createHmmRange,
  hmmPfnToMapOrder,
  hmmRangeFault,
  hmmWalkOps,
} from './hmm-range-fault.js';
export type { HmmRange, HmmWalkState } from './hmm-range-fault.js';
export { makeDeviceExclusive } from './device-exclusive.js';
export type { DeviceExclusiveResult } from './device-exclusive.js';
export {
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE,
  HMM_DMIRROR_PROT_ERROR,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_PMD,
  HMM_DMIRROR_PROT_PUD,
  HMM_DMIRROR_PROT_READ,
  HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_ZERO,
  HmmMirror,
  HmmTestDevice,
  MirrorTag,
} from './dmirror.js';
export type { DmirrorResult, HmmTestDeviceOptions } from './dmirror.js';
export { scenarioOps, scenarioMirror, snapshotNames } from './scenario-ops.js';
export type { DeviceScenarioContext, DeviceScenarioOpHandler } from './scenario-ops.js';
