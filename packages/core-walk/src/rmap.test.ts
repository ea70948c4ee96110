// rmap.ts: the references a PTE mapping holds, and anon_vma creation.
import { describe, expect, it } from 'vitest';
import { framesOf } from './kernel.js';
import { PG_ANON, PG_SWAPBACKED } from './frames.js';
import { accountPteMap, accountPteUnmap, anonVmaPrepare } from './rmap.js';
import { AccessKind } from './uapi.js';
import { createTestMm, mapAnon } from './testing.js';

describe('accountPteMap / accountPteUnmap', () => {
  it('a mapping takes one folio reference and one page mapcount; unmapping the last one frees the frame', () => {
    const { kernel } = createTestMm();
    const mm = kernel.createMm();
    const frames = framesOf(kernel);
    const used = frames.used;
    const pfn = frames.alloc(0, PG_ANON | PG_SWAPBACKED);
    accountPteMap(mm, pfn);
    accountPteMap(mm, pfn);
    expect(frames.refcount[pfn]).toBe(2);
    expect(frames.mapcount[pfn]).toBe(2);
    accountPteUnmap(mm, pfn);
    expect(frames.refcount[pfn]).toBe(1);
    expect(frames.mapcount[pfn]).toBe(1);
    accountPteUnmap(mm, pfn);
    expect(frames.isAllocated(pfn)).toBe(false);
    expect(frames.used).toBe(used);
  });

  it('accounts a tail page on its folio head: refcount on the head, mapcount on the page', () => {
    const { kernel, mm } = createTestMm();
    const frames = framesOf(kernel);
    const head = frames.alloc(9, PG_ANON | PG_SWAPBACKED);
    accountPteMap(mm, head + 7);
    expect(frames.refcount[head]).toBe(1);
    expect(frames.mapcount[head + 7]).toBe(1);
    expect(frames.mapcount[head]).toBe(0);
    accountPteUnmap(mm, head + 7);
    expect(frames.isAllocated(head)).toBe(false);
  });
});

describe('anonVmaPrepare', () => {
  it('gives a VMA its anon_vma once; a child VMA gets its own, rooted at the parent\'s root', () => {
    const { mm } = createTestMm();
    const addr = mapAnon(mm, 0, 1);
    const vma = mm.vmas.lookup(addr)!;
    expect(vma.anonVma).toBeNull();
    const av = anonVmaPrepare(mm, vma);
    expect(anonVmaPrepare(mm, vma)).toBe(av);
    expect(av.root).toBe(av);
    mm.access(addr, AccessKind.Write, 1);
    const child = mm.fork();
    const childAv = child.vmas.lookup(addr)!.anonVma!;
    expect(childAv).not.toBe(av);
    expect(childAv.root).toBe(av);
  });
});
