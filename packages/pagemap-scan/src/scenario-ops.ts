/**
 * The scenario ops this package implements (SCENARIO.md `scan` and
 * `pagemap`), in the handler shape of @pagewalk/scenario's FeaturePlugin
 * contract (`plugin.ops`).
 */
import { errnoName, PAGE_SIZE, type Kernel, type Mm } from '@pagewalk/core-walk';
import {
  categoryMaskOf,
  type OpResult,
  type ScanOp,
  type ScanRegion,
  type ScenarioOp,
  type ScenarioOpContext as ContractContext,
  type ScenarioOpHandler as ContractHandler,
  type ScenarioOpHandlers,
} from '@pagewalk/scenario';
import { PageRegionVec, pagemapScanIoctl, type PmScanArgRaw } from './pagemap-scan.js';
import { readPagemap } from './pagemap-read.js';
import {
  PM_SCAN_ARG_SIZE,
  PM_SCAN_CHECK_WPASYNC,
  PM_SCAN_DEFAULT_VEC,
  PM_SCAN_WP_MATCHING,
  categoryNames,
  pagemapFlagNames,
} from './uapi.js';

/** What a handler sees: the contract's context over core-walk's kernel and mm. */
export type ScenarioOpContext = ContractContext<Kernel, Mm>;

export type ScenarioOpHandler = ContractHandler<Kernel, Mm>;

/** The pm_scan_arg a `scan` op describes, raw overrides applied. */
export function scanOpArg(op: ScanOp, arenaBase: number): PmScanArgRaw {
  const raw = op.raw ?? {};
  let flags = 0;
  for (const name of op.flags) flags |= name === 'wp_matching' ? PM_SCAN_WP_MATCHING : PM_SCAN_CHECK_WPASYNC;
  return {
    size: raw.size ?? PM_SCAN_ARG_SIZE,
    flags: raw.flags ?? flags,
    start: arenaBase + (raw.start_byte_offset ?? op.page * PAGE_SIZE),
    end: arenaBase + (raw.end_byte_offset ?? (op.page + op.pages) * PAGE_SIZE),
    walkEnd: 0,
    vec: raw.vec ?? PM_SCAN_DEFAULT_VEC,
    vecLen: raw.vec_len ?? op.vec_len,
    maxPages: raw.max_pages ?? op.max_pages,
    categoryInverted: raw.category_inverted ?? categoryMaskOf(op.category_inverted),
    categoryMask: raw.category_mask ?? categoryMaskOf(op.category_mask),
    categoryAnyofMask: raw.category_anyof_mask ?? categoryMaskOf(op.category_anyof_mask),
    returnMask: raw.return_mask ?? categoryMaskOf(op.return_mask),
  };
}

function scanHandler(op: ScenarioOp, context: ScenarioOpContext): OpResult {
  const scan = op as ScanOp;
  const arg = scanOpArg(scan, context.arenaBase);
  const vec = new PageRegionVec();
  const ret = pagemapScanIoctl(context.mm, arg, vec);
  if (ret < 0) return { op: 'scan', ret: -1, errno: errnoName(ret) };
  const regions: ScanRegion[] = [];
  for (let i = 0; i < vec.length; i++) {
    regions.push([context.pageOf(vec.starts[i]!), context.pageOf(vec.ends[i]!), categoryNames(vec.categories[i]!)]);
  }
  return { op: 'scan', ret, walk_end: context.pageOf(arg.walkEnd), regions };
}

function pagemapHandler(op: ScenarioOp, context: ScenarioOpContext): OpResult {
  const { page, pages } = op as Extract<ScenarioOp, { op: 'pagemap' }>;
  const entries = readPagemap(context.mm, context.addressOf(page), pages);
  if (typeof entries === 'number') return { op: 'pagemap', ret: -1, errno: errnoName(entries) };
  const names: OpResult['entries'] = [];
  for (let i = 0; i < entries.length; i++) names.push(pagemapFlagNames(entries.flags[i]!));
  return { op: 'pagemap', ret: 0, entries: names };
}

/** Handlers of the `scan` and `pagemap` ops. */
export const scenarioOps: ScenarioOpHandlers<Kernel, Mm> = {
  scan: scanHandler,
  pagemap: pagemapHandler,
};
