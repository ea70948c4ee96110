import { describe, expect, it } from 'vitest';
import { AccessKind, MADV_DONTNEED, MADV_FREE, MADV_PAGEOUT, PAGE_SIZE, createKernel, profileError, ptePresent } from './index.js';
import { allowableAnonOrders } from './mthp.js';
import { DEFAULT_PROFILE, type KernelProfile } from './profile.js';
import { assertInvariants, createTestMm, mapAnon, peekPage, writePages } from './testing.js';
import { VM_HUGEPAGE, VM_NOHUGEPAGE } from './vma.js';

const P = PAGE_SIZE;

/** Whether the page at `addr` has a present PTE. */
const present = (mm: ReturnType<typeof createTestMm>['mm'], addr: number): boolean => ptePresent(mm.leafEntry(addr));
const profile = (over: Partial<KernelProfile>): KernelProfile => ({ ...DEFAULT_PROFILE, ...over });

describe('mTHP profile', () => {
  it('validates sizes and modes', () => {
    expect(profileError({ mthp: { '64kB': 'always' } })).toBeNull();
    expect(profileError({ mthp: { '8kB': 'always' } as never })).toMatch(/unknown size "8kB"/);
    expect(profileError({ mthp: { '64kB': 'sometimes' } as never })).toMatch(/profile.mthp.64kB/);
    expect(profileError({ mthp: [] as never })).toMatch(/profile.mthp must be an object/);
    expect(() => createKernel({ profile: { mthp: { '64kB': 'bogus' } as never } })).toThrow();
  });

  it('allows the orders the sysfs modes give a VMA, below the PMD order', () => {
    const p = profile({ thp: 'madvise', mthp: { '16kB': 'always', '64kB': 'madvise', '128kB': 'inherit', '2048kB': 'always' } });
    expect(allowableAnonOrders(p, 0)).toBe(1 << 2);
    expect(allowableAnonOrders(p, VM_HUGEPAGE)).toBe((1 << 2) | (1 << 4) | (1 << 5));
    expect(allowableAnonOrders(p, VM_HUGEPAGE | VM_NOHUGEPAGE)).toBe(0);
    expect(allowableAnonOrders(profile({ thp: 'always', mthp: { '128kB': 'inherit' } }), 0)).toBe(1 << 5);
    expect(allowableAnonOrders(profile({ thp: 'never', mthp: { '128kB': 'inherit' } }), VM_HUGEPAGE)).toBe(0);
    expect(allowableAnonOrders(DEFAULT_PROFILE, VM_HUGEPAGE)).toBe(0);
  });
});

describe('mTHP folios', () => {
  it('a write fault maps a whole 64 KiB folio, PTE-mapped, one reference per PTE', () => {
    const { kernel, mm } = createTestMm({ profile: { mthp: { '64kB': 'always' } } });
    const addr = mapAnon(mm, 0, 32);
    expect(mm.access(addr + 5 * P, AccessKind.Write, 9)).toBe(0);
    const frames = kernel.frames;
    expect(frames.used).toBeGreaterThanOrEqual(16);
    let head = -1;
    for (let i = 0; i < 16; i++) expect(present(mm, addr + i * P)).toBe(true);
    expect(present(mm, addr + 16 * P)).toBe(false);
    for (let pfn = 1; pfn < frames.capacityFrames; pfn++) if (frames.isLarge(pfn)) head = pfn;
    expect(frames.folioPages(head)).toBe(16);
    expect(frames.refcount[head]).toBe(16);
    expect(frames.folioMapcount(head)).toBe(16);
    expect(frames.folioOf(head + 15)).toBe(head);
    assertInvariants(kernel);
  });

  it('partial zap keeps the folio; pageout on zram swaps it whole and a fault brings it back whole', () => {
    const { kernel, mm } = createTestMm({ profile: { mthp: { '16kB': 'always' }, swap: true, swapDevice: 'zram' } });
    const addr = mapAnon(mm, 0, 8);
    writePages(mm, addr, 8, 3);
    expect(mm.madvise(addr + P, P, MADV_DONTNEED)).toBe(0);
    expect(present(mm, addr + P)).toBe(false);
    expect(peekPage(mm, addr + 2 * P)?.[0]).toBe(3);
    assertInvariants(kernel);
    expect(mm.madvise(addr + 4 * P, 4 * P, MADV_PAGEOUT)).toBe(0);
    expect(kernel.swap!.used).toBe(4);
    assertInvariants(kernel);
    expect(mm.access(addr + 6 * P, AccessKind.Read)).toBe(3);
    expect(kernel.swap!.used).toBe(0);
    for (let i = 4; i < 8; i++) expect(present(mm, addr + i * P)).toBe(true);
    assertInvariants(kernel);
  });

  it('MADV_FREE of a whole folio lets pageout drop it; a write in between keeps it', () => {
    const { kernel, mm } = createTestMm({ profile: { mthp: { '16kB': 'always' }, swap: true, swapDevice: 'zram' } });
    const addr = mapAnon(mm, 0, 8);
    writePages(mm, addr, 8, 3);
    expect(mm.madvise(addr, 8 * P, MADV_FREE)).toBe(0);
    expect(mm.access(addr + 5 * P, AccessKind.Write, 4)).toBe(0);
    expect(mm.madvise(addr, 8 * P, MADV_PAGEOUT)).toBe(0);
    expect(present(mm, addr)).toBe(false);
    expect(mm.leafEntry(addr)).toBe(0);
    expect(peekPage(mm, addr + 4 * P)?.[0]).toBe(3);
    assertInvariants(kernel);
  });
});
