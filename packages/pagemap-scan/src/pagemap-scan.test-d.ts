import { expectTypeOf, test } from 'vitest';
import type { Mm } from '@pagewalk/core-walk';
import { pagemapScan, pagemapScanWalkOps, scenarioOps, type PagemapScanState, type PmScanNamedRegion, type PmScanResult } from './index.js';

test('typed API shapes', () => {
  expectTypeOf(pagemapScan).parameter(0).toEqualTypeOf<Mm>();
  expectTypeOf(pagemapScan({} as Mm, { start: 0, end: 0 })).toEqualTypeOf<PmScanResult | number>();
  expectTypeOf(pagemapScan({} as Mm, { start: 0, end: 0, names: true })).toEqualTypeOf<PmScanResult<PmScanNamedRegion> | number>();
  expectTypeOf(pagemapScanWalkOps.pteBatch).not.toBeUndefined();
  expectTypeOf<Parameters<NonNullable<typeof pagemapScanWalkOps.testWalk>>[2]['state']>().toEqualTypeOf<PagemapScanState>();
  expectTypeOf(scenarioOps).toHaveProperty('scan');
  // @ts-expect-error category names are checked
  pagemapScan({} as Mm, { start: 0, end: 0, categoryMask: ['dirty'] });
});
