import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_PFN,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_SOFT_DIRTY,
  PTE_SPECIAL,
  PTE_UFFD_WP,
  PTE_WRITE,
  isTableEntry,
  mkHugeLeaf,
  mkPte,
  mkTableEntry,
  pmdLeaf,
  pteDirty,
  pteMkuffdWp,
  pteNone,
  ptePfn,
  ptePresent,
  pteSoftDirty,
  pteSpecial,
  pteUffdWp,
  pteWrite,
  pteYoung,
  tableIdOf,
} from './pgtable.js';
import {
  MAX_SWP_OFFSET,
  SWP_PTE_MARKER,
  isDeviceExclusiveEntry,
  isDevicePrivateEntry,
  isGuardPteMarker,
  isMigrationEntry,
  isPoisonedPteMarker,
  isPteMarker,
  isRealSwapEntry,
  isSwapPte,
  isUffdWpPteMarker,
  isWritableDevicePrivateEntry,
  isWritableMigrationEntry,
  makeDeviceExclusiveEntry,
  makeDevicePrivateEntry,
  makeGuardPte,
  makeMigrationEntry,
  makePoisonedMarker,
  makeSwapEntry,
  makeUffdWpMarker,
  pagemapSwapFrame,
  pteSwpClearUffdWp,
  pteSwpMksoftDirty,
  pteSwpMkuffdWp,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  pteSwpUffdWpAny,
  swpOffset,
  swpType,
} from './swapops.js';

const pfnArb = fc.integer({ min: 0, max: MAX_PFN });
const offsetArb = fc.integer({ min: 1, max: MAX_SWP_OFFSET });

describe('present entries (pgtable.ts)', () => {
  it('round-trips pfn and every flag', () => {
    fc.assert(
      fc.property(pfnArb, fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), (pfn, w, d, y, sd, wp, sp) => {
        const flags = (w ? PTE_WRITE : 0) | (d ? PTE_DIRTY : 0) | (y ? PTE_ACCESSED : 0) | (sd ? PTE_SOFT_DIRTY : 0) | (wp ? PTE_UFFD_WP : 0) | (sp ? PTE_SPECIAL : 0);
        const pte = mkPte(pfn, flags);
        expect(pte).toBeGreaterThanOrEqual(0);
        expect(ptePresent(pte)).toBe(true);
        expect(pteNone(pte)).toBe(false);
        expect(isSwapPte(pte)).toBe(false);
        expect(ptePfn(pte)).toBe(pfn);
        expect([pteWrite(pte), pteDirty(pte), pteYoung(pte), pteSoftDirty(pte), pteUffdWp(pte), pteSpecial(pte)]).toEqual([w, d, y, sd, wp, sp]);
        expect(pmdLeaf(pte)).toBe(false);
      }),
    );
  });

  it('uffd-wp write-protects (x86 semantics)', () => {
    const pte = pteMkuffdWp(mkPte(5, PTE_WRITE | PTE_DIRTY));
    expect(pteUffdWp(pte)).toBe(true);
    expect(pteWrite(pte)).toBe(false);
    expect(pteDirty(pte)).toBe(true);
  });

  it('distinguishes huge leaves from table pointers', () => {
    fc.assert(
      fc.property(pfnArb, fc.integer({ min: 1, max: MAX_PFN }), (pfn, table) => {
        const leaf = mkHugeLeaf(pfn, PTE_WRITE);
        expect(pmdLeaf(leaf)).toBe(true);
        expect(isTableEntry(leaf)).toBe(false);
        expect(ptePfn(leaf)).toBe(pfn);
        const pointer = mkTableEntry(table);
        expect(isTableEntry(pointer)).toBe(true);
        expect(pmdLeaf(pointer)).toBe(false);
        expect(tableIdOf(pointer)).toBe(table);
      }),
    );
  });
});

describe('swap-type entries (swapops.ts)', () => {
  it('round-trips real swap entries with their software bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 23 }), offsetArb, fc.boolean(), fc.boolean(), (type, offset, sd, wp) => {
        let e = makeSwapEntry(type, offset);
        if (sd) e = pteSwpMksoftDirty(e);
        if (wp) e = pteSwpMkuffdWp(e);
        expect(isSwapPte(e)).toBe(true);
        expect(ptePresent(e)).toBe(false);
        expect(isRealSwapEntry(e)).toBe(true);
        expect(swpType(e)).toBe(type);
        expect(swpOffset(e)).toBe(offset);
        expect(pteSwpSoftDirty(e)).toBe(sd);
        expect(pteSwpUffdWp(e)).toBe(wp);
        expect(pteSwpUffdWpAny(e)).toBe(wp);
        expect(pteSwpUffdWp(pteSwpClearUffdWp(e))).toBe(false);
        expect(isPteMarker(e) || isMigrationEntry(e) || isDevicePrivateEntry(e)).toBe(false);
      }),
    );
  });

  it('round-trips migration, device-private and device-exclusive entries', () => {
    fc.assert(
      fc.property(pfnArb, fc.boolean(), (pfn, write) => {
        const m = makeMigrationEntry(pfn, write);
        expect(isMigrationEntry(m) && swpOffset(m) === pfn && isWritableMigrationEntry(m) === write).toBe(true);
        const d = makeDevicePrivateEntry(pfn, write);
        expect(isDevicePrivateEntry(d) && swpOffset(d) === pfn && isWritableDevicePrivateEntry(d) === write).toBe(true);
        expect(isRealSwapEntry(d) || isMigrationEntry(d)).toBe(false);
        const x = makeDeviceExclusiveEntry(pfn);
        expect(isDeviceExclusiveEntry(x) && swpOffset(x) === pfn).toBe(true);
      }),
    );
  });

  it('encodes PTE markers: guard, uffd-wp, poisoned, each distinct from none', () => {
    const guard = makeGuardPte();
    expect(isGuardPteMarker(guard) && isPteMarker(guard) && !isUffdWpPteMarker(guard) && !isPoisonedPteMarker(guard)).toBe(true);
    expect(swpType(guard)).toBe(SWP_PTE_MARKER);
    const wp = makeUffdWpMarker();
    expect(isUffdWpPteMarker(wp) && !isGuardPteMarker(wp) && pteSwpUffdWpAny(wp)).toBe(true);
    expect(isPoisonedPteMarker(makePoisonedMarker())).toBe(true);
    for (const marker of [guard, wp, makePoisonedMarker()]) {
      expect(marker).not.toBe(0);
      expect(ptePresent(marker)).toBe(false);
    }
    // /proc/pid/pagemap frame field for a guard: SWP_PTE_MARKER | GUARD << 5 = 0x9f.
    expect(pagemapSwapFrame(guard)).toBe(0x9f);
  });
});
