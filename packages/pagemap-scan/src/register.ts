/**
 * The feature plugin: the only file that touches the DI container. It
 * resolves the userfaultfd query once the kernel is ready and offers the
 * package's API as a named service (`kernel.service('pagemap-scan')`).
 */
import { FeatureServiceToken, KernelReadyToken, type DependencyContainer, type Feature, type FeatureService, type KernelReadyHook } from '@pagewalk/core-walk';
import { pagemapScan, pagemapScanIoctl } from './pagemap-scan.js';
import { pagemapRead, readPagemap } from './pagemap-read.js';
import { uffdWpAsyncQueryOf } from './uffd-wp-async-query.js';

/** What `kernel.service('pagemap-scan')` returns. */
export interface PagemapScanService {
  readonly pagemapScan: typeof pagemapScan;
  readonly pagemapScanIoctl: typeof pagemapScanIoctl;
  readonly pagemapRead: typeof pagemapRead;
  readonly readPagemap: typeof readPagemap;
}

const service: PagemapScanService = { pagemapScan, pagemapScanIoctl, pagemapRead, readPagemap };

const kernelReady: KernelReadyHook = {
  onKernelReady(kernel) {
    uffdWpAsyncQueryOf(kernel);
  },
};

/** PAGEMAP_SCAN and /proc/pid/pagemap (fs/proc/task_mmu.c). */
export const pagemapScanFeature: Feature = {
  name: 'pagemap-scan',
  install(container: DependencyContainer) {
    container.register(KernelReadyToken, { useValue: kernelReady });
    const entry: FeatureService<PagemapScanService> = { name: 'pagemap-scan', service };
    container.register(FeatureServiceToken, { useValue: entry });
  },
};
