import { expectTypeOf, test } from 'vitest';
import { walkPageRange, type Feature, type Mm, type MmWalkOps } from '@pagewalk/core-walk';
import type { MmWalkOpsUnsafe } from '@pagewalk/core-walk/mm-internal';
import { guardInstallWalkOps, guardPages, guardRemoveWalkOps, type GuardInstallState } from './index.js';

declare const mm: Mm;

test('the public MmWalkOps forbids installPte', () => {
  // @ts-expect-error installPte is `never` on public ops
  const ops: MmWalkOps<GuardInstallState> = { installPte: () => 0 };
  void ops;
  // @ts-expect-error the install ops cannot go to a public walker
  walkPageRange(mm, 0, 4096, guardInstallWalkOps, { nrPages: 0 });
  expectTypeOf(guardInstallWalkOps).toMatchTypeOf<MmWalkOpsUnsafe<GuardInstallState>>();
});

test('the remove ops are ordinary public ops; the plugin is a Feature', () => {
  walkPageRange(mm, 0, 4096, guardRemoveWalkOps, null);
  expectTypeOf(guardPages).toEqualTypeOf<Feature>();
});
