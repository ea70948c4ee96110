/** Issue 18: userfaultfd-handled faults at any byte of a page keep the data exact. */
import { AccessKind, MAP_SHARED, checkInvariants, createKernel } from '@pagewalk/core-walk';
import { TEST_ARENA_BASE, mapAnon, P } from '@pagewalk/core-walk/testing';
import { describe, expect, it } from 'vitest';
import {
  UFFD_API,
  UFFD_EVENT_PAGEFAULT,
  UFFD_FEATURE_EXACT_ADDRESS,
  UFFD_FEATURE_WP_ASYNC,
  UFFDIO_REGISTER_MODE_MINOR,
  UFFDIO_REGISTER_MODE_MISSING,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_MODE_WP,
  userfaultfd,
  uffdWp,
  type UserfaultfdCtx,
} from '@pagewalk/uffd-wp';

const page = (n: number) => TEST_ARENA_BASE + n * P;

function setup(features: number) {
  const kernel = createKernel({ features: [uffdWp], profile: { swap: true } });
  const mm = kernel.createMm();
  const ctx = userfaultfd(mm) as UserfaultfdCtx;
  expect(ctx.api({ api: UFFD_API, features })).toBe(0);
  return { kernel, mm, ctx };
}

describe.each([1, 2048, 4095])('uffd-handled faults at +%i', (off) => {
  it('MISSING on shared anonymous memory resolved by COPY: the copy and the write both land', () => {
    const { kernel, mm, ctx } = setup(UFFD_FEATURE_EXACT_ADDRESS);
    mapAnon(mm, 0, 2, { shared: true });
    ctx.register({ range: { start: page(0), len: 2 * P }, mode: UFFDIO_REGISTER_MODE_MISSING });
    const src = new Uint8Array(P).fill(0x11);
    const seen: number[] = [];
    ctx.setHandler((c) => {
      const msgs = c.read();
      if (typeof msgs === 'number') return;
      for (const msg of msgs) {
        if (msg.event !== UFFD_EVENT_PAGEFAULT) continue;
        seen.push(msg.address);
        const dst = msg.address - (msg.address % P);
        expect(c.copy({ dst, src, len: P, mode: 0, copy: 0 })).toBe(0);
      }
    });
    expect(mm.access(page(1) + off, AccessKind.Write, 0x22)).toBe(0);
    expect(seen).toEqual([page(1) + off]);
    expect(mm.access(page(1) + off, AccessKind.Read)).toBe(0x22);
    expect(mm.access(page(1) + ((off + 1) % P), AccessKind.Read)).toBe(0x11);
    expect(checkInvariants(kernel)).toEqual([]);
  });

  it('MINOR on a memfd resolved by CONTINUE maps the cached page', () => {
    const { kernel, mm, ctx } = setup(0);
    const file = kernel.memfdCreate('f', 2 * P);
    if (typeof file === 'number') throw new Error('memfd');
    const a = mm.mmap(page(0), 2 * P, 3, MAP_SHARED | 0x100000, file);
    const b = mm.mmap(page(4), 2 * P, 3, MAP_SHARED | 0x100000, file);
    expect(mm.access(a + P + off, AccessKind.Write, 9)).toBe(0);
    ctx.register({ range: { start: b, len: 2 * P }, mode: UFFDIO_REGISTER_MODE_MINOR });
    ctx.setHandler((c) => {
      const msgs = c.read();
      if (typeof msgs === 'number') return;
      for (const msg of msgs) if (msg.event === UFFD_EVENT_PAGEFAULT) c.continueRange({ range: { start: msg.address, len: P }, mode: 0, mapped: 0 });
    });
    expect(mm.access(b + P + off, AccessKind.Read)).toBe(9);
    expect(checkInvariants(kernel)).toEqual([]);
  });

  it('WP_ASYNC on a shared mapping: the first write after protection keeps the page in the cache', () => {
    const { kernel, mm, ctx } = setup(UFFD_FEATURE_WP_ASYNC);
    mapAnon(mm, 0, 2, { shared: true });
    expect(mm.access(page(0) + off, AccessKind.Write, 1)).toBe(0);
    ctx.register({ range: { start: page(0), len: 2 * P }, mode: UFFDIO_REGISTER_MODE_WP });
    expect(ctx.writeProtect({ range: { start: page(0), len: 2 * P }, mode: UFFDIO_WRITEPROTECT_MODE_WP })).toBe(0);
    expect(mm.access(page(0) + off, AccessKind.Write, 2)).toBe(0);
    expect(mm.access(page(1) + off, AccessKind.Write, 3)).toBe(0);
    expect(mm.madvise(page(0), 2 * P, 4 /* MADV_DONTNEED */)).toBe(0);
    expect(mm.access(page(0) + off, AccessKind.Read)).toBe(2);
    expect(mm.access(page(1) + off, AccessKind.Read)).toBe(3);
    expect(checkInvariants(kernel)).toEqual([]);
  });
});
