// fork.ts: dup_mmap and copy_page_range.
import { describe, expect, it } from 'vitest';
import { tablesOf } from './kernel.js';
import { pteSlotOf } from './pgtable-nav.js';
import { HPAGE_PMD_NR } from './geometry.js';
import { pmdLeaf, ptePfn, ptePresent, pteWrite } from './pgtable.js';
import { isGuardPteMarker, isRealSwapEntry, makeGuardPte, swpOffset } from './swapops.js';
import { AccessKind, MADV_DONTFORK, MADV_PAGEOUT, MADV_WIPEONFORK, MAP_SHARED } from './uapi.js';
import { forkMm } from './fork.js';
import { P, RW, TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon, writePages } from './testing.js';

describe('forkMm', () => {
  it('shares private anonymous pages copy-on-write: both sides write-protected, one more reference each', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 4);
    writePages(mm, addr, 4, 9);
    const child = forkMm(mm);
    expect(child.vmas.all().map((v) => [v.start, v.end])).toEqual(mm.vmas.all().map((v) => [v.start, v.end]));
    for (let i = 0; i < 4; i++) {
      const a = addr + i * P;
      const pfn = ptePfn(mm.leafEntry(a));
      expect(ptePfn(child.leafEntry(a))).toBe(pfn);
      expect(pteWrite(mm.leafEntry(a)) || pteWrite(child.leafEntry(a))).toBe(false);
      expect(kernel.frames.refcount[pfn]).toBe(2);
      expect(kernel.frames.mapcount[pfn]).toBe(2);
      expect(child.access(a, AccessKind.Read)).toBe(9);
    }
    assertInvariants(kernel);
  });

  it('copies a THP mapping by its PMD', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'always' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR);
    mm.access(addr, AccessKind.Write, 1);
    const child = forkMm(mm);
    expect(pmdLeaf(child.leafEntry(addr))).toBe(true);
    expect(ptePfn(child.leafEntry(addr))).toBe(ptePfn(mm.leafEntry(addr)));
    expect(kernel.frames.entireMapcount.get(ptePfn(mm.leafEntry(addr)))).toBe(2);
    assertInvariants(kernel);
  });

  it('a swapped-out page gets a second swap reference', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: true } });
    const addr = mapAnon(mm, 0, 1);
    writePages(mm, addr, 1, 4);
    mm.madvise(addr, P, MADV_PAGEOUT);
    const entry = mm.leafEntry(addr);
    expect(isRealSwapEntry(entry)).toBe(true);
    const child = forkMm(mm);
    expect(child.leafEntry(addr)).toBe(entry);
    expect(kernel.swap!.count(swpOffset(entry))).toBe(2);
    expect(child.access(addr, AccessKind.Read)).toBe(4);
    expect(mm.access(addr, AccessKind.Read)).toBe(4);
    assertInvariants(kernel);
  });

  it('MADV_DONTFORK leaves the VMA out; MADV_WIPEONFORK gives the child the VMA without its pages', () => {
    const { kernel, mm } = createTestMm();
    const kept = mapAnon(mm, 0, 1);
    const dropped = mapAnon(mm, 2, 1);
    const wiped = mapAnon(mm, 4, 1);
    for (const a of [kept, dropped, wiped]) mm.access(a, AccessKind.Write, 1);
    expect(mm.madvise(dropped, P, MADV_DONTFORK)).toBe(0);
    expect(mm.madvise(wiped, P, MADV_WIPEONFORK)).toBe(0);
    const child = forkMm(mm);
    expect(child.vmas.lookup(kept)).not.toBeNull();
    expect(child.vmas.lookup(dropped)).toBeNull();
    expect(child.vmas.lookup(wiped)).not.toBeNull();
    expect(child.leafEntry(wiped)).toBe(0);
    expect(child.access(wiped, AccessKind.Read)).toBe(0);
    expect(mm.access(wiped, AccessKind.Read)).toBe(1);
    assertInvariants(kernel);
  });

  it('copies guard markers of anonymous memory; shared file mappings are not copied (they refault)', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 2);
    mm.access(addr + P, AccessKind.Write, 1);
    tablesOf(kernel).entries[pteSlotOf(mm, addr, true)] = makeGuardPte();
    const file = kernel.memfdCreate('f', P);
    if (typeof file === 'number') throw new Error(`memfd ${file}`);
    const shared = mm.mmap(BASE + 16 * P, P, RW, MAP_SHARED, file, 0);
    mm.access(shared, AccessKind.Write, 3);
    const child = forkMm(mm);
    expect(isGuardPteMarker(child.leafEntry(addr))).toBe(true);
    expect(child.leafEntry(shared)).toBe(0);
    expect(child.access(shared, AccessKind.Read)).toBe(3);
    expect(ptePresent(child.leafEntry(shared))).toBe(true);
    assertInvariants(kernel);
  });
});
