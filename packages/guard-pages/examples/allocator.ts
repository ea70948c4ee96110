/**
 * A bump allocator that puts a guard page after every object: a stray write
 * past the end of an object lands on the guard and faults with SIGSEGV
 * instead of silently corrupting the next object.
 */
import { AccessKind, MADV_GUARD_INSTALL, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SIGSEGV, createKernel } from '@pagewalk/core-walk';
import { guardPages } from '@pagewalk/guard-pages';

const PAGE = 4096;

export function runAllocatorExample(): string[] {
  const log: string[] = [];
  const kernel = createKernel({ features: [guardPages] });
  const mm = kernel.createMm();

  // One arena of 64 pages; objects are carved from it, each followed by a guard page.
  const arena = mm.mmap(0, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  let next = arena;
  const allocate = (bytes: number): number => {
    const pages = Math.ceil(bytes / PAGE);
    const object = next;
    const guard = object + pages * PAGE;
    if (mm.madvise(guard, PAGE, MADV_GUARD_INSTALL) !== 0) throw new Error('guard install failed');
    next = guard + PAGE;
    return object;
  };

  const a = allocate(2 * PAGE);
  const b = allocate(PAGE);
  mm.access(b, AccessKind.Write, 0x42);

  // Fill object a byte-page by byte-page and run one page too far.
  for (let offset = 0; offset <= 2 * PAGE; offset += PAGE) {
    const result = mm.access(a + offset, AccessKind.Write, 0xaa);
    if (result === -SIGSEGV) {
      log.push(`stray write at a+${offset} caught: SIGSEGV on the guard page`);
      break;
    }
    log.push(`wrote a+${offset}`);
  }
  log.push(`b still holds 0x${mm.access(b, AccessKind.Read).toString(16)}`);
  return log;
}
