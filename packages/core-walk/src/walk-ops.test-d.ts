import { expectTypeOf, test } from 'vitest';
import { walkPageRange, type MmWalkOps, type Pte } from './index.js';
import type { MmWalkOpsUnsafe } from './mm-internal.js';
import type { Mm } from './mm.js';

declare const mm: Mm;

test('public ops cannot carry installPte', () => {
  const unsafeOps: MmWalkOpsUnsafe<null> = { installPte: () => 0 };
  // @ts-expect-error installPte is `never` on the public ops type
  walkPageRange(mm, 0, 4096, unsafeOps);
  // @ts-expect-error not even as a fresh literal
  walkPageRange(mm, 0, 4096, { installPte: () => 0 });
  expectTypeOf<MmWalkOps['installPte']>().toEqualTypeOf<undefined>();
});

test('callbacks take the kernel arguments in the kernel order', () => {
  const ops: MmWalkOps<{ n: number }> = {
    pteEntry(entry, addr, next, walk) {
      expectTypeOf(entry).toEqualTypeOf<Pte>();
      expectTypeOf(addr).toBeNumber();
      expectTypeOf(next).toBeNumber();
      walk.state.n++;
      return 0;
    },
    pteHole(addr, next, depth) {
      expectTypeOf(depth).toEqualTypeOf<-1 | 0 | 1 | 2 | 3>();
      return addr < next ? 0 : 1;
    },
  };
  expectTypeOf(walkPageRange(mm, 0, 4096, ops, { n: 0 })).toBeNumber();
});
