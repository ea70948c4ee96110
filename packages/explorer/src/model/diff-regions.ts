// The kernel diff's two map rows: the regions of one op's result (a
// PAGEMAP_SCAN's regions, a pagemap read's per-page flags) as page ranges,
// for the simulator and for the kernel, and the pages where they disagree.
import type { OpResult, ScenarioOp } from '@pagewalk/scenario';

/** [first page, end page, names]: a run of pages with the same categories or flags. */
export type Region = readonly [number, number, readonly string[]];

export interface RegionRows {
  /** The pages the rows span (the op's range). */
  readonly range: readonly [number, number];
  readonly simulator: readonly Region[];
  readonly kernel: readonly Region[];
  /** Page ranges where the two rows name different things. */
  readonly differs: readonly (readonly [number, number])[];
}

/** A result's regions: a scan's `regions`, or a pagemap read's `entries` merged into runs from the op's first page. */
export function resultRegions(result: OpResult | undefined, op: ScenarioOp | undefined): Region[] | null {
  if (result === undefined) return null;
  const value = result as { regions?: [number, number, string[]][]; entries?: string[][] };
  if (value.regions !== undefined) return value.regions.map(([start, end, names]) => [start, end, [...names].sort()] as const);
  if (value.entries === undefined) return null;
  const first = (op as { page?: number } | undefined)?.page ?? 0;
  const out: [number, number, string[]][] = [];
  value.entries.forEach((names, i) => {
    const sorted = [...names].sort();
    const last = out.at(-1);
    if (last !== undefined && last[1] === first + i && last[2].join() === sorted.join()) last[1]++;
    else out.push([first + i, first + i + 1, sorted]);
  });
  return out;
}

/** Names per page of `regions` over [lo, hi), '' where no region covers it. */
function namesByPage(regions: readonly Region[], lo: number, hi: number): string[] {
  const out = new Array<string>(hi - lo).fill('');
  for (const [start, end, names] of regions) for (let page = Math.max(lo, start); page < Math.min(hi, end); page++) out[page - lo] = names.join(' ');
  return out;
}

/** Pages an op covers: its page..page+pages, else the whole arena. */
function opRange(op: ScenarioOp | undefined, arenaPages: number): [number, number] {
  const { page, pages } = (op ?? {}) as { page?: number; pages?: number };
  if (typeof page !== 'number') return [0, arenaPages];
  return [page, page + (typeof pages === 'number' ? pages : 1)];
}

/** The two rows for an op, or null when neither result has regions. */
export function regionRows(op: ScenarioOp | undefined, simulator: OpResult | undefined, kernel: OpResult | undefined, arenaPages: number): RegionRows | null {
  const simulated = resultRegions(simulator, op);
  const recorded = resultRegions(kernel, op);
  if (simulated === null && recorded === null) return null;
  const rows = { simulator: simulated ?? [], kernel: recorded ?? [] };
  let [lo, hi] = opRange(op, arenaPages);
  for (const [start, end] of [...rows.simulator, ...rows.kernel]) {
    lo = Math.min(lo, start);
    hi = Math.max(hi, end);
  }
  // Per page over the span (an op's range is at most the arena).
  const a = namesByPage(rows.simulator, lo, hi);
  const b = namesByPage(rows.kernel, lo, hi);
  const differs: [number, number][] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const last = differs.at(-1);
    if (last !== undefined && last[1] === lo + i) last[1]++;
    else differs.push([lo + i, lo + i + 1]);
  }
  return { range: [lo, hi], ...rows, differs };
}

/** A colour per set of names (the same set is the same colour in both rows). */
export function regionColor(names: readonly string[]): string {
  let hash = 2166136261;
  for (const c of names.join(' ')) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619);
  return `hsl(${(hash >>> 0) % 360} 55% 52%)`;
}
