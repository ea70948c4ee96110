// Test double for the userfaultfd side (NOT the uffd-wp package): enough of
// UFFD_FEATURE_WP_ASYNC to exercise PAGEMAP_SCAN's write-protect paths. It
// registers the UffdWpAsyncQuery contract this package defines, an async
// fault handler, and scenario handlers for uffd_open / uffd_register (whole
// VMAs only) / uffd_wp(wp: true). Anything else is reported unsupported so
// a scenario that needs more cannot pass by accident.
import {
  UserfaultHandlerToken,
  UserfaultOutcome,
  VM_UFFD_WP,
  errnoName,
  type Feature,
  type UserfaultHandler,
  type Vma,
} from '@pagewalk/core-walk';
import type { OpName, OpResult, ScenarioOp } from '@pagewalk/scenario';
import { PageRegionVec, pagemapScanIoctl, PM_SCAN_ARG_SIZE, PM_SCAN_WP_MATCHING, UffdWpAsyncQuery } from '../index.js';
import type { ExtraOpHandler } from './executor.js';

interface FakeCtx {
  wpAsync: boolean;
}

const ctxOf = (vma: Vma): FakeCtx | null => vma.userfaultfdCtx as FakeCtx | null;

export const fakeUffdFeature: Feature = {
  name: 'fake-uffd',
  install(container) {
    const query: UffdWpAsyncQuery = {
      isWpAsync: (vma) => ctxOf(vma)?.wpAsync === true,
      useMarkers: (vma) => (vma.flags & VM_UFFD_WP) !== 0,
    };
    container.register(UffdWpAsyncQuery, { useValue: query });
    const handler: UserfaultHandler = {
      handleUserfault: (_mm, vma) => (ctxOf(vma)?.wpAsync === true ? UserfaultOutcome.AsyncResolve : UserfaultOutcome.Sigbus),
    };
    container.register(UserfaultHandlerToken, { useValue: handler });
  },
};

/** UFFDIO_WRITEPROTECT(mode WP) in async mode: what a vec_len 0 WP_MATCHING scan without masks does. */
export function fakeWriteProtect(mm: Parameters<typeof pagemapScanIoctl>[0], start: number, end: number): number {
  const arg = {
    size: PM_SCAN_ARG_SIZE, flags: PM_SCAN_WP_MATCHING, start, end, walkEnd: 0, vec: 0, vecLen: 0, maxPages: 0,
    categoryInverted: 0, categoryMask: 0, categoryAnyofMask: 0, returnMask: 0,
  };
  return pagemapScanIoctl(mm, arg, new PageRegionVec());
}

/** Scenario handlers of the double; `null` result fields mean "cannot model": unsupported. */
export function fakeUffdOps(): Partial<Record<OpName, ExtraOpHandler>> {
  let ctx: FakeCtx | null = null;
  const unsupported = (op: ScenarioOp): OpResult => ({ op: op.op, unsupported: true });
  return {
    uffd_open: (op) => {
      const open = op as Extract<ScenarioOp, { op: 'uffd_open' }>;
      if (ctx !== null || !open.features.includes('wp_async')) return unsupported(op);
      ctx = { wpAsync: true };
      return { op: 'uffd_open', ret: 0 };
    },
    uffd_register: (op, { mm, addressOf }) => {
      const reg = op as Extract<ScenarioOp, { op: 'uffd_register' }>;
      if (ctx === null || reg.modes.join() !== 'wp') return unsupported(op);
      const start = addressOf(reg.page);
      const end = addressOf(reg.page + reg.pages);
      const vmas = mm.vmas.range(start, end);
      if (vmas.length === 0 || vmas[0]!.start !== start || vmas[vmas.length - 1]!.end !== end) return unsupported(op);
      for (const vma of vmas) {
        vma.flags |= VM_UFFD_WP;
        vma.userfaultfdCtx = ctx;
      }
      return { op: 'uffd_register', ret: 0 };
    },
    uffd_wp: (op, { mm, addressOf }) => {
      const wp = op as Extract<ScenarioOp, { op: 'uffd_wp' }>;
      if (ctx === null || !wp.wp) return unsupported(op);
      const ret = fakeWriteProtect(mm, addressOf(wp.page), addressOf(wp.page + wp.pages));
      return ret < 0 ? { op: 'uffd_wp', ret: -1, errno: errnoName(ret) } : { op: 'uffd_wp', ret: 0 };
    },
  };
}
