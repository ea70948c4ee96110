import { describe, expect, it } from 'vitest';
import { AccessKind, MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, PageContents, createKernel } from './index.js';

describe('PageContents: host memory by the bytes that differ from zero', () => {
  it('keeps a few bytes as pairs, goes dense past SPARSE_MAX, and forgets zeros', () => {
    const c = new PageContents();
    c.writeByte(7, 0, 0);
    expect(c.has(7)).toBe(false);
    for (let i = 0; i < PageContents.SPARSE_MAX; i++) c.writeByte(7, 4095 - i * 3, i + 1);
    expect(c.stored).toBe(1);
    const sparseBytes = c.hostBytes;
    for (let i = 0; i < PageContents.SPARSE_MAX; i++) expect(c.readByte(7, 4095 - i * 3)).toBe(i + 1);
    expect(c.readByte(7, 1)).toBe(0);
    const peeked = c.peek(7)!;
    expect(peeked[4095]).toBe(1);
    expect(peeked.reduce((n, b) => n + (b !== 0 ? 1 : 0), 0)).toBe(PageContents.SPARSE_MAX);
    c.writeByte(7, 2, 99); // one more non-zero byte: dense
    expect(c.hostBytes).toBeGreaterThan(sparseBytes + PAGE_SIZE);
    expect(c.readByte(7, 2)).toBe(99);
    expect(c.readByte(7, 4095)).toBe(1);
    const other = new PageContents();
    other.writeByte(1, 100, 5);
    other.writeByte(1, 100, 0);
    expect(other.has(1)).toBe(false);
    expect(other.stored).toBe(0);
  });

  it('copies sparse pages as sparse and dense ones as dense, across stores', () => {
    const a = new PageContents();
    const b = new PageContents();
    a.writeByte(3, 17, 4);
    b.copyFrom(a, 3, 9);
    expect(b.readByte(9, 17)).toBe(4);
    a.view(3)!.fill(1); // view() makes it dense and writable
    b.copyFrom(a, 3, 9);
    expect(b.readByte(9, 4000)).toBe(1);
    b.copyFrom(a, 5, 9); // a never-written page
    expect(b.has(9)).toBe(false);
    a.clear(3);
    expect(a.peek(3)).toBeNull();
  });

  it('a 4 GiB process with every page written at one offset costs a few tens of bytes per page', () => {
    const kernel = createKernel();
    const mm = kernel.createMm();
    const pages = (4 * 2 ** 30) / PAGE_SIZE;
    const base = mm.mmap(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    expect(base).toBeGreaterThan(0);
    for (let i = 0; i < pages; i++) mm.access(base + i * PAGE_SIZE + 1234, AccessKind.Write, (i % 255) + 1);
    expect(kernel.frames.contents.stored).toBe(pages);
    expect(kernel.frames.contents.hostBytes / pages).toBeLessThanOrEqual(64);
    expect(mm.access(base + 12345 * PAGE_SIZE + 1234, AccessKind.Read)).toBe((12345 % 255) + 1);
    mm.exit();
    expect(kernel.frames.contents.stored).toBe(0);
  }, 60_000);
});
