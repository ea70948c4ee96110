/**
 * The boundary attack suite (issue 19): ways a caller outside the mm
 * packages tried to change page tables or a kernel's behaviour, each of
 * which must now fail. Getters and proxies on walk ops, prototype
 * pollution, forged or public walk objects, tsyringe's root container,
 * and importing '@pagewalk/core-walk/mm-internal' from an ordinary package
 * at run time.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_DONTNEED,
  MADV_POPULATE_WRITE,
  MadviseBehaviorToken,
  WalkLock,
  createKernel,
  makeGuardPte,
  setEntry,
  walkPageRange,
  walkPageRangeNovma,
  walkPageRangeVma,
  walkPageVma,
  type MmWalk,
  type MmWalkOps,
} from './index.js';
import { MmInternalAccessError, claimMmInternal } from './mm-internal.js';
import { TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon, writePages, P } from './testing.js';

const REPO_ROOT = join(import.meta.dirname, '../../..');

function populated(pages = 4) {
  const { kernel, mm } = createTestMm();
  mapAnon(mm, 0, pages);
  writePages(mm, BASE, pages, 7);
  return { kernel, mm };
}

/** Every public entry point, on [BASE, BASE + 4 pages). */
function publicWalks(mm: ReturnType<typeof populated>['mm'], ops: object): number[] {
  const vma = mm.vmas.lookup(BASE)!;
  const o = ops as MmWalkOps<unknown>;
  return [
    walkPageRange(mm, BASE, BASE + 4 * P, o, {}),
    walkPageVma(vma, o, {}),
    walkPageRangeVma(vma, BASE, BASE + 4 * P, o, {}),
  ];
}

function withPollution(name: string, value: unknown, body: () => void): void {
  const proto = Object.prototype as Record<string, unknown>;
  proto[name] = value;
  try {
    body();
  } finally {
    delete proto[name];
  }
}

describe('ops are read once, into a frozen copy', () => {
  it('a getter that hides installPte from the check cannot install through walkPageRange', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 4);
    let reads = 0;
    const ops = {
      get installPte() {
        reads++;
        return reads === 1 ? undefined : () => makeGuardPte();
      },
      pteEntry() {},
    };
    // Read once per walk: the first walk saw no installPte and ran as a
    // plain walk; the later ones saw the function and were refused.
    expect(publicWalks(mm, ops)).toEqual([0, -Errno.EINVAL, -Errno.EINVAL]);
    expect(reads).toBe(3);
    for (let i = 0; i < 4; i++) expect(mm.leafEntry(BASE + i * P)).toBe(0);
    assertInvariants(kernel);
  });

  it('a proxy that answers differently on every read gets the same treatment', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 4);
    let reads = 0;
    const ops = new Proxy({} as Record<string, unknown>, {
      has: () => true,
      getOwnPropertyDescriptor: (_t, key) => (key === 'installPte' || key === 'pteEntry' ? { value: undefined, configurable: true, enumerable: true, writable: true } : undefined),
      get: (_t, key) => {
        if (key === 'installPte') return reads++ === 0 ? undefined : () => makeGuardPte();
        if (key === 'pteEntry') return () => 0;
        return undefined;
      },
    });
    expect(walkPageRange(mm, BASE, BASE + 4 * P, ops as MmWalkOps<unknown>, {})).toBe(0);
    expect(reads).toBe(1);
    // The next walk reads installPte again (now a function): refused.
    expect(walkPageRange(mm, BASE, BASE + 4 * P, ops as MmWalkOps<unknown>, {})).toBe(-Errno.EINVAL);
    for (let i = 0; i < 4; i++) expect(mm.leafEntry(BASE + i * P)).toBe(0);
    assertInvariants(kernel);
  });

  it('callbacks see the frozen copy; malformed ops are EINVAL', () => {
    const { mm } = populated();
    let seen: unknown = null;
    const ops = { pteEntry: (_e: number, _a: number, _n: number, walk: MmWalk<unknown>) => void (seen = walk.ops) };
    expect(walkPageRange(mm, BASE, BASE + P, ops)).toBe(0);
    expect(Object.isFrozen(seen)).toBe(true);
    expect(seen).not.toBe(ops);
    expect(walkPageRange(mm, BASE, BASE + P, { pteEntry: 5 } as unknown as MmWalkOps<unknown>)).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, BASE, BASE + P, { walkLock: 99 } as unknown as MmWalkOps<unknown>)).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, BASE, BASE + P, null as unknown as MmWalkOps<unknown>)).toBe(-Errno.EINVAL);
  });

  it('class-based ops (methods on a prototype) still work', () => {
    const { mm } = populated();
    class Counter {
      pteEntry(_e: number, _a: number, _n: number, walk: MmWalk<{ n: number }>) {
        walk.state.n++;
      }
    }
    const state = { n: 0 };
    expect(walkPageRange(mm, BASE, BASE + 4 * P, new Counter(), state)).toBe(0);
    expect(state.n).toBe(4);
  });
});

describe('prototype pollution changes nothing', () => {
  it('Object.prototype.installPte: public walks still run (not EINVAL) and install nothing', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 8);
    writePages(mm, BASE + 4 * P, 1, 1); // a PTE table, its first four entries empty
    withPollution('installPte', () => makeGuardPte(), () => {
      let entries = 0;
      expect(walkPageRange(mm, BASE, BASE + 4 * P, { pteEntry: () => void entries++ })).toBe(0);
      expect(entries).toBe(4);
      expect(walkPageRangeNovma(mm, BASE, BASE + 4 * P, { pteEntry: () => 0 })).toBe(0);
    });
    for (let i = 0; i < 4; i++) expect(mm.leafEntry(BASE + i * P)).toBe(0);
    assertInvariants(kernel);
  });

  it('Object.prototype.testWalk and walkLock: walks and madvise behave as before', () => {
    const { kernel, mm } = populated();
    withPollution('testWalk', () => 1, () => {
      withPollution('walkLock', 99, () => {
        const state = { n: 0 };
        expect(walkPageRange(mm, BASE, BASE + 4 * P, { pteEntry: (e: number, _a: number, _n: number, w: MmWalk<{ n: number }>) => void (e !== 0 && w.state.n++) }, state)).toBe(0);
        expect(state.n).toBe(4);
        expect(mm.madvise(BASE, 4 * P, MADV_DONTNEED)).toBe(0);
        expect(mm.madvise(BASE, 4 * P, MADV_POPULATE_WRITE)).toBe(0);
        const { walkPageRangeMm } = claimMmInternal();
        let installed = 0;
        expect(mm.madvise(BASE, 4 * P, MADV_DONTNEED)).toBe(0);
        expect(walkPageRangeMm(mm, BASE, BASE + 4 * P, { installPte: () => (installed++, makeGuardPte()) }, null)).toBe(0);
        expect(installed).toBe(4);
      });
    });
    expect(mm.access(BASE, AccessKind.Read)).toBe(-11);
    assertInvariants(kernel);
  });
});

describe('a public walk cannot write tables', () => {
  it('setEntry is EPERM in a public walk and for a forged walk object', () => {
    const { kernel, mm } = populated();
    const before = mm.leafEntry(BASE);
    const results: number[] = [];
    walkPageRange(mm, BASE, BASE + P, {
      pteEntry: (_e, _a, _n, walk) => void results.push(setEntry(walk, 0)),
      pmdEntry: (_e, _a, _n, walk) => void results.push(setEntry(walk, 0)),
    });
    expect(results).toEqual([-Errno.EPERM, -Errno.EPERM]);
    const forged = { mm, slot: mm.pteSlot(BASE, false), entries: kernel.tables.entries } as unknown as MmWalk<unknown>;
    expect(setEntry(forged, 0)).toBe(-Errno.EPERM);
    expect(mm.leafEntry(BASE)).toBe(before);
    assertInvariants(kernel);
  });

  it('walk.entries and pteBatch entries are copies: writing them changes no table', () => {
    const { kernel, mm } = populated();
    const before = [0, 1, 2, 3].map((i) => mm.leafEntry(BASE + i * P));
    walkPageRange(mm, BASE, BASE + 4 * P, {
      pteEntry: (_e, _a, _n, walk) => void (walk.entries[walk.slot] = 0),
      pmdEntry: (_e, _a, _n, walk) => void (walk.entries[walk.slot] = 0),
    });
    walkPageRange(mm, BASE, BASE + 4 * P, { pteBatch: (entries, first, count) => void entries.fill(0, first, first + count) });
    walkPageRangeNovma(mm, BASE, BASE + 4 * P, { pteBatch: (entries, first, count) => void entries.fill(0, first, first + count) });
    expect([0, 1, 2, 3].map((i) => mm.leafEntry(BASE + i * P))).toEqual(before);
    for (let i = 0; i < 4; i++) expect(mm.access(BASE + i * P, AccessKind.Read)).toBe(7);
    assertInvariants(kernel);
  });

  it('an mm-internal walk may write its entry (and only that one)', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 2);
    const { walkPageRangeMm } = claimMmInternal();
    const guard = makeGuardPte();
    expect(walkPageRangeMm(mm, BASE, BASE + 2 * P, { installPte: () => 0, pteEntry: () => 0, walkLock: WalkLock.Read }, null)).toBe(0);
    expect(
      walkPageRangeMm(mm, BASE, BASE + P, { pteEntry: (_e, _a, _n, walk) => setEntry(walk, guard) }, null),
    ).toBe(0);
    expect(mm.leafEntry(BASE)).toBe(guard);
    assertInvariants(kernel);
  });
});

describe("tsyringe's root container", () => {
  it('a registration there reaches no kernel', () => {
    const evil = { advice: 77, name: 'evil', applyToVma: () => 0 };
    rootContainer.register(MadviseBehaviorToken, { useValue: evil });
    try {
      const kernel = createKernel();
      expect(kernel.madviseBehaviors.size).toBe(0);
      expect(kernel.resolve(MadviseBehaviorToken)).toEqual([]);
      const mm = kernel.createMm();
      mapAnon(mm, 0, 1);
      expect(mm.madvise(BASE, P, 77)).toBe(-Errno.EINVAL);
    } finally {
      rootContainer.reset();
    }
  });
});

describe('mm-internal at run time', () => {
  it('claimMmInternal answers a module of core-walk (this test), and is refused through an unreadable stack', () => {
    expect(typeof claimMmInternal().walkPageRangeMm).toBe('function');
    const limit = Error.stackTraceLimit;
    // stackTraceLimit is restored by the claim itself; a caller cannot make it skip the check.
    Error.stackTraceLimit = 0;
    try {
      expect(typeof claimMmInternal().walkPageRangeMm).toBe('function');
    } finally {
      Error.stackTraceLimit = limit;
    }
    expect(new MmInternalAccessError('x').name).toBe('MmInternalAccessError');
  });

  it('refuses a module of an ordinary package, and a caller whose stack it cannot read', () => {
    const run = (pkg: string, prelude = ''): string => {
      const file = join(REPO_ROOT, 'packages', pkg, `.mm-internal-attack-${process.pid}.mjs`);
      writeFileSync(
        file,
        prelude +
          "const internal = await import('@pagewalk/core-walk/mm-internal');\n" +
          "try { internal.claimMmInternal(); console.log('claimed'); } catch (e) { console.log(e.name); }\n" +
          "console.log(Object.keys(internal).sort().join(','));\n",
      );
      try {
        return spawnSync(process.execPath, [file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).stdout.trim();
      } finally {
        rmSync(file, { force: true });
      }
    };
    const exported = 'MM_INTERNAL_PACKAGE_NAMES,MmInternalAccessError,claimMmInternal';
    expect(run('scenario-runner')).toBe(`MmInternalAccessError\n${exported}`);
    expect(run('guard-pages')).toBe(`claimed\n${exported}`);
    // A frozen prepareStackTrace that fakes an allowed frame: the claim fails closed.
    const fake = "Object.defineProperty(Error, 'prepareStackTrace', { value: () => ['/x/packages/guard-pages/src/a.ts'], configurable: false, writable: false });\n";
    expect(run('scenario-runner', fake)).toBe(`MmInternalAccessError\n${exported}`);
    // Monkey-patching captureStackTrace after core-walk loaded changes nothing either.
    const patch = "await import('@pagewalk/core-walk/mm-internal'); Error.captureStackTrace = (o) => { o.stack = ['/x/packages/guard-pages/src/a.ts']; };\n";
    expect(run('scenario-runner', patch)).toBe(`MmInternalAccessError\n${exported}`);
  });
});
