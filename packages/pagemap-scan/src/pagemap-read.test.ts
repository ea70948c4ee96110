import { describe, expect, it } from 'vitest';
import { AccessKind, Errno, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, createKernel, makeGuardPte } from '@pagewalk/core-walk';
import { plantPteForTest } from '@pagewalk/core-walk/testing';
import {
  PM_FILE,
  PM_GUARD_REGION,
  PM_MMAP_EXCLUSIVE,
  PM_PRESENT,
  PM_SWAP,
  PagemapEntries,
  clearRefs,
  pagemapEntryToBigInt,
  pagemapFlagNames,
  pagemapRead,
  readPagemap,
} from './index.js';

const BASE = 0x7e00_0000_0000;
const PAGE = 4096;

function setup() {
  const kernel = createKernel();
  const mm = kernel.createMm();
  expect(mm.mmap(BASE, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)).toBe(BASE);
  return { kernel, mm };
}

describe('/proc/pid/pagemap', () => {
  it('present+exclusive for private pages, present only for the zero page, nothing for holes', () => {
    const { mm } = setup();
    mm.access(BASE, AccessKind.Write, 1);
    mm.access(BASE + PAGE, AccessKind.Read);
    const entries = readPagemap(mm, BASE, 3) as PagemapEntries;
    expect([0, 1, 2].map((i) => pagemapFlagNames(entries.flags[i]!))).toEqual([['present', 'exclusive'], ['present'], []]);
    expect(entries.frames[0]).toBeGreaterThan(0);
    expect(pagemapEntryToBigInt(entries.flags[0]!, entries.frames[0]!) >> 63n).toBe(1n);
    const hidden = readPagemap(mm, BASE, 1, { showPfn: false }) as PagemapEntries;
    expect(hidden.frames[0]).toBe(0);
  });
  it('shared pages are file_shared; a guard marker is swapped + guard with frame 31 | 4 << 5', () => {
    const { mm } = setup();
    expect(mm.mmap(BASE + 16 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)).toBe(BASE + 16 * PAGE);
    mm.access(BASE + 16 * PAGE, AccessKind.Write, 1);
    mm.access(BASE, AccessKind.Write, 1);
    plantPteForTest(mm, BASE + PAGE, () => makeGuardPte());
    const shared = readPagemap(mm, BASE + 16 * PAGE, 1) as PagemapEntries;
    expect(shared.flags[0]).toBe(PM_PRESENT | PM_FILE | PM_MMAP_EXCLUSIVE);
    const guard = readPagemap(mm, BASE + PAGE, 1) as PagemapEntries;
    expect(guard.flags[0]).toBe(PM_SWAP | PM_GUARD_REGION);
    expect(guard.frames[0]).toBe(31 + 4 * 32);
  });
  it('offsets and counts must be multiples of 8; past the end of user space reads 0 bytes', () => {
    const { mm } = setup();
    const out = new PagemapEntries();
    expect(pagemapRead(mm, 4, 8, out)).toBe(-Errno.EINVAL);
    expect(pagemapRead(mm, 8, 12, out)).toBe(-Errno.EINVAL);
    expect(pagemapRead(mm, 8, 0, out)).toBe(0);
    expect(pagemapRead(mm, (BASE / PAGE) * 8, 64, out)).toBe(64);
    expect(pagemapRead(mm, (2 ** 47 / PAGE) * 8, 64, out)).toBe(0);
    // A read running into the end of user space stops there.
    expect(pagemapRead(mm, ((2 ** 47 - 3 * PAGE) / PAGE) * 8, 80, out)).toBe(16);
  });
});

describe('/proc/pid/clear_refs', () => {
  it('"4" succeeds (a no-op without CONFIG_MEM_SOFT_DIRTY); bad input is EINVAL', () => {
    const { mm } = setup();
    expect(clearRefs(mm, '4\n')).toBe(2);
    expect(clearRefs(mm, 'x')).toBe(-Errno.EINVAL);
    expect(clearRefs(mm, '9')).toBe(-Errno.EINVAL);
  });
  it('with soft-dirty configured, pages are soft-dirty after a write and clean after "4"', () => {
    const kernel = createKernel({ profile: { softDirty: true } });
    const mm = kernel.createMm();
    mm.mmap(BASE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    mm.access(BASE, AccessKind.Write, 1);
    expect(pagemapFlagNames((readPagemap(mm, BASE, 1) as PagemapEntries).flags[0]!)).toContain('soft_dirty');
    expect(clearRefs(mm, 4)).toBe(1);
    expect(pagemapFlagNames((readPagemap(mm, BASE, 1) as PagemapEntries).flags[0]!)).not.toContain('soft_dirty');
  });
});
