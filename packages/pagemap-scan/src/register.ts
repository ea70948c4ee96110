/**
 * The feature plugin: the only file that touches the DI container. It
 * resolves the userfaultfd query once the kernel is ready and offers the
 * package's API under its own typed token (`PagemapScanServiceToken`).
 */
import { KernelReadyToken, token, type DependencyContainer, type Feature, type KernelReadyHook } from '@pagewalk/core-walk';
import { pagemapScan, pagemapScanIoctl } from './pagemap-scan.js';
import { pagemapRead, readPagemap } from './pagemap-read.js';
import { uffdWpAsyncQueryOf } from './uffd-wp-async-query.js';

/** What `kernel.resolve(PagemapScanServiceToken)[0]` returns. */
export interface PagemapScanService {
  readonly pagemapScan: typeof pagemapScan;
  readonly pagemapScanIoctl: typeof pagemapScanIoctl;
  readonly pagemapRead: typeof pagemapRead;
  readonly readPagemap: typeof readPagemap;
}

/** This package's own token (`Symbol.for('@pagewalk/pagemap-scan/PagemapScanService')`). */
export const PagemapScanServiceToken = token<PagemapScanService>('pagemap-scan/PagemapScanService');

const service: PagemapScanService = { pagemapScan, pagemapScanIoctl, pagemapRead, readPagemap };

const kernelReady: KernelReadyHook = {
  onKernelReady(kernel) {
    uffdWpAsyncQueryOf(kernel);
  },
};

/** PAGEMAP_SCAN and /proc/pid/pagemap (fs/proc/task_mmu.c): the kernel half of `plugin`. */
export const pagemapScanFeature: Feature = {
  name: 'pagemap-scan',
  install(container: DependencyContainer) {
    container.register(KernelReadyToken, { useValue: kernelReady });
    container.register(PagemapScanServiceToken, { useValue: service });
  },
};
