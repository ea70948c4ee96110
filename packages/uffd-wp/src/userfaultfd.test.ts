import {
  AccessKind,
  Errno,
  UffdWpAsyncQueryToken,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
  VM_UFFD_WP,
  createKernel,
  pteUffdWp,
  type Mm,
} from '@pagewalk/core-walk';
import { TEST_ARENA_BASE, assertInvariants, mapAnon, writePages } from '@pagewalk/core-walk/testing';
import { describe, expect, it } from 'vitest';
import {
  UFFD_API,
  UFFD_API_FEATURES,
  UFFD_API_IOCTLS,
  UFFD_EVENT_FORK,
  UFFD_EVENT_PAGEFAULT,
  UFFD_FEATURE_EVENT_FORK,
  UFFD_FEATURE_EXACT_ADDRESS,
  UFFD_FEATURE_SIGBUS,
  UFFD_FEATURE_THREAD_ID,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_UNPOPULATED,
  UFFD_PAGEFAULT_FLAG_MINOR,
  UFFD_PAGEFAULT_FLAG_WP,
  UFFD_PAGEFAULT_FLAG_WRITE,
  UFFDIO_REGISTER_MODE_MINOR,
  UFFDIO_REGISTER_MODE_MISSING,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
  UFFDIO_WRITEPROTECT_MODE_WP,
  UffdWp,
  _UFFDIO_CONTINUE,
  _UFFDIO_WRITEPROTECT,
  _UFFDIO_ZEROPAGE,
  isUffdWpProtected,
  userfaultfd,
  uffdWp,
  type UffdMsg,
  type UffdPagefaultMsg,
  type UserfaultfdCtx,
} from '@pagewalk/uffd-wp';

const page = (n: number) => TEST_ARENA_BASE + n * PAGE_SIZE;

function setup(features = 0, profile = {}): { mm: Mm; ctx: UserfaultfdCtx; kernel: ReturnType<typeof createKernel> } {
  const kernel = createKernel({ features: [uffdWp], profile });
  const mm = kernel.createMm();
  const ctx = userfaultfd(mm);
  if (typeof ctx === 'number') throw new Error(`userfaultfd: ${ctx}`);
  expect(ctx.api({ api: UFFD_API, features })).toBe(0);
  return { mm, ctx, kernel };
}

const range = (first: number, pages: number) => ({ start: page(first), len: pages * PAGE_SIZE });

describe('userfaultfd() and UFFDIO_API', () => {
  it('needs the feature installed and valid flags', () => {
    const bare = createKernel().createMm();
    expect(userfaultfd(bare)).toBe(-Errno.ENOSYS);
    const mm = createKernel({ features: [uffdWp] }).createMm();
    expect(userfaultfd(mm, 0x4)).toBe(-Errno.EINVAL);
  });

  it('negotiates features once and reports everything the kernel offers', () => {
    const mm = createKernel({ features: [uffdWp] }).createMm();
    const ctx = userfaultfd(mm) as UserfaultfdCtx;
    expect(ctx.register({ range: range(0, 1), mode: UFFDIO_REGISTER_MODE_WP })).toBe(-Errno.EINVAL);
    expect(ctx.read()).toBe(-Errno.EINVAL);
    const bad = { api: 0xab, features: 0 };
    expect(ctx.api(bad)).toBe(-Errno.EINVAL);
    expect(bad).toMatchObject({ api: 0, features: 0 });
    expect(ctx.api({ api: UFFD_API, features: 1 << 20 })).toBe(-Errno.EINVAL);
    const arg = { api: UFFD_API, features: UFFD_FEATURE_WP_ASYNC, ioctls: 0n };
    expect(ctx.api(arg)).toBe(0);
    expect(arg.features).toBe(UFFD_API_FEATURES);
    expect(arg.ioctls).toBe(UFFD_API_IOCTLS);
    expect(ctx.features).toBe(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED);
    expect(ctx.api({ api: UFFD_API, features: 0 })).toBe(-Errno.EINVAL);
  });

  it('EVENT_FORK needs CAP_SYS_PTRACE', () => {
    const mm = createKernel({ features: [uffdWp] }).createMm();
    const ctx = userfaultfd(mm, 0, { capSysPtrace: false }) as UserfaultfdCtx;
    expect(ctx.api({ api: UFFD_API, features: UFFD_FEATURE_EVENT_FORK })).toBe(-Errno.EPERM);
  });
});

describe('UFFDIO_REGISTER / UNREGISTER', () => {
  it('checks modes, ranges and VMA types', () => {
    const { mm, ctx } = setup();
    mapAnon(mm, 0, 8);
    expect(ctx.register({ range: range(0, 8), mode: 0 })).toBe(-Errno.EINVAL);
    expect(ctx.register({ range: range(0, 8), mode: 8 })).toBe(-Errno.EINVAL);
    expect(ctx.register({ range: { start: page(0) + 1, len: PAGE_SIZE }, mode: 1 })).toBe(-Errno.EINVAL);
    expect(ctx.register({ range: range(100, 1), mode: 1 })).toBe(-Errno.EINVAL);
    expect(ctx.register({ range: range(0, 8), mode: UFFDIO_REGISTER_MODE_MINOR })).toBe(-Errno.EINVAL);
    const arg = { range: range(0, 4), mode: UFFDIO_REGISTER_MODE_MISSING, ioctls: 0n };
    expect(ctx.register(arg)).toBe(0);
    expect((arg.ioctls >> BigInt(_UFFDIO_WRITEPROTECT)) & 1n).toBe(0n);
    expect((arg.ioctls >> BigInt(_UFFDIO_ZEROPAGE)) & 1n).toBe(1n);
    expect((arg.ioctls >> BigInt(_UFFDIO_CONTINUE)) & 1n).toBe(0n);
    expect(mm.vmas.size).toBe(2);
    expect(ctx.unregister(range(0, 8))).toBe(0);
    expect(mm.vmas.size).toBe(1);
  });

  it('MINOR is allowed on shmem; a second context gets EBUSY', () => {
    const { mm, ctx, kernel } = setup();
    mapAnon(mm, 0, 4, { shared: true });
    expect(ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_MINOR })).toBe(0);
    const other = userfaultfd(mm) as UserfaultfdCtx;
    other.api({ api: UFFD_API, features: 0 });
    expect(other.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_WP })).toBe(-Errno.EBUSY);
    expect(other.unregister(range(0, 4))).toBe(-Errno.EINVAL);
    assertInvariants(kernel);
  });

  it('re-registering a subset of the modes leaves the VMA alone; a new mode replaces the set', () => {
    const { mm, ctx } = setup();
    mapAnon(mm, 0, 4);
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MISSING });
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_MISSING });
    expect(mm.vmas.lookup(page(0))!.flags & VM_UFFD_WP).toBe(VM_UFFD_WP);
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_MINOR | UFFDIO_REGISTER_MODE_MISSING });
  });
});

describe('UFFDIO_WRITEPROTECT', () => {
  it('validates modes and needs WP registration of every VMA', () => {
    const { mm, ctx, kernel } = setup(UFFD_FEATURE_WP_UNPOPULATED);
    mapAnon(mm, 0, 8);
    writePages(mm, page(0), 2, 1);
    expect(ctx.writeProtect({ range: range(0, 8), mode: UFFDIO_WRITEPROTECT_MODE_WP })).toBe(-Errno.ENOENT);
    ctx.register({ range: range(0, 8), mode: UFFDIO_REGISTER_MODE_WP });
    expect(ctx.writeProtect({ range: range(0, 8), mode: 4 })).toBe(-Errno.EINVAL);
    expect(ctx.writeProtect({ range: range(0, 8), mode: UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE })).toBe(-Errno.EINVAL);
    expect(ctx.writeProtect({ range: range(0, 8), mode: UFFDIO_WRITEPROTECT_MODE_WP })).toBe(0);
    for (let i = 0; i < 8; i++) expect(isUffdWpProtected(mm, page(i))).toBe(true);
    expect(pteUffdWp(mm.entryAt(page(0)).entry)).toBe(true);
    expect(ctx.writeProtect({ range: range(0, 8), mode: 0 })).toBe(0);
    for (let i = 0; i < 8; i++) expect(isUffdWpProtected(mm, page(i))).toBe(false);
    expect(mm.entryAt(page(5)).entry).toBe(0);
    assertInvariants(kernel);
  });
});

describe('UFFDIO_WRITEPROTECT across page-table pool growth (issue 19)', () => {
  it('protects every page of a 1 GiB range, past the point where the table pool grows', () => {
    const { mm, ctx, kernel } = setup(UFFD_FEATURE_WP_UNPOPULATED);
    const pages = 262144;
    mapAnon(mm, 0, pages);
    const arrayBefore = kernel.tables.entries;
    expect(ctx.register({ range: range(0, pages), mode: UFFDIO_REGISTER_MODE_WP })).toBe(0);
    expect(ctx.writeProtect({ range: range(0, pages), mode: UFFDIO_WRITEPROTECT_MODE_WP })).toBe(0);
    // The markers needed 512 PTE tables and more: the pool's array was replaced on the way.
    expect(kernel.tables.entries).not.toBe(arrayBefore);
    for (const n of [0, 129023, 129024, 200000, pages - 1]) expect(isUffdWpProtected(mm, page(n))).toBe(true);
    let unprotected = 0;
    for (let n = 0; n < pages; n += 511) if (!isUffdWpProtected(mm, page(n))) unprotected++;
    expect(unprotected).toBe(0);
    assertInvariants(kernel);
  });
});

describe('synchronous faults', () => {
  it('queue a message, run the handler, and retry once resolved', () => {
    const { mm, ctx, kernel } = setup(UFFD_FEATURE_THREAD_ID);
    mapAnon(mm, 0, 4);
    writePages(mm, page(0), 4, 1);
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_WP });
    ctx.writeProtect({ range: range(0, 4), mode: UFFDIO_WRITEPROTECT_MODE_WP });
    const seen: UffdMsg[] = [];
    ctx.setHandler((c) => {
      const msgs = c.read();
      if (typeof msgs === 'number') return;
      for (const msg of msgs) {
        seen.push(msg);
        if (msg.event === UFFD_EVENT_PAGEFAULT) c.writeProtect({ range: { start: msg.address, len: PAGE_SIZE }, mode: 0 });
      }
    });
    expect(mm.access(page(2) + 17, AccessKind.Write, 9)).toBe(0);
    expect(seen).toEqual([{ event: UFFD_EVENT_PAGEFAULT, flags: UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP, address: page(2), ptid: mm.id }]);
    expect(mm.access(page(2) + 17, AccessKind.Read)).toBe(9);
    expect(ctx.stats.delivered).toBe(1);
    assertInvariants(kernel);
  });

  it('without a handler (or one that does not wake) the access gets SIGBUS', () => {
    const { mm, ctx } = setup(UFFD_FEATURE_EXACT_ADDRESS);
    mapAnon(mm, 0, 4);
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_MISSING });
    expect(mm.access(page(1), AccessKind.Read)).toBe(-SIGBUS);
    let msg: UffdPagefaultMsg | undefined;
    ctx.setHandler((c) => {
      const msgs = c.read();
      if (typeof msgs !== 'number') msg = msgs[0] as UffdPagefaultMsg;
    });
    expect(mm.access(page(1) + 5, AccessKind.Read)).toBe(-SIGBUS);
    expect(msg?.address).toBe(page(1) + 5);
    expect(msg?.flags).toBe(0);
    expect(ctx.stats.unresolved).toBe(2);
    expect(ctx.pending).toBe(0);
  });

  it('MISSING faults are resolved by UFFDIO_COPY and ZEROPAGE', () => {
    const { mm, ctx, kernel } = setup();
    mapAnon(mm, 0, 4);
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_MISSING });
    const src = new Uint8Array(PAGE_SIZE).fill(0x5a);
    ctx.setHandler((c) => {
      const msgs = c.read();
      if (typeof msgs === 'number') return;
      for (const msg of msgs) {
        if (msg.event !== UFFD_EVENT_PAGEFAULT) continue;
        if (msg.address === page(0)) {
          const arg = { dst: msg.address, src, len: PAGE_SIZE, mode: 0, copy: 0 };
          expect(c.copy(arg)).toBe(0);
          expect(arg.copy).toBe(PAGE_SIZE);
        } else {
          expect(c.zeropage({ range: { start: msg.address, len: PAGE_SIZE }, mode: 0 })).toBe(0);
        }
      }
    });
    expect(mm.access(page(0) + 100, AccessKind.Read)).toBe(0x5a);
    expect(mm.access(page(1), AccessKind.Write, 3)).toBe(0);
    expect(mm.access(page(1), AccessKind.Read)).toBe(3);
    expect(ctx.zeropage({ range: range(0, 1), mode: 0 })).toBe(-Errno.EEXIST);
    expect(ctx.zeropage({ range: range(100, 1), mode: 0 })).toBe(-Errno.ENOENT);
    assertInvariants(kernel);
  });

  it('MINOR faults on shmem are resolved by UFFDIO_CONTINUE', () => {
    const { mm, ctx, kernel } = setup();
    mapAnon(mm, 0, 2, { shared: true });
    writePages(mm, page(0), 2, 7);
    mm.madvise(page(0), 2 * PAGE_SIZE, 4 /* MADV_DONTNEED */);
    ctx.register({ range: range(0, 2), mode: UFFDIO_REGISTER_MODE_MINOR });
    const flags: number[] = [];
    ctx.setHandler((c) => {
      const msgs = c.read();
      if (typeof msgs === 'number') return;
      for (const msg of msgs) {
        if (msg.event !== UFFD_EVENT_PAGEFAULT) continue;
        flags.push(msg.flags);
        const arg = { range: { start: msg.address, len: PAGE_SIZE }, mode: 0, mapped: 0 };
        expect(c.continueRange(arg)).toBe(0);
        expect(arg.mapped).toBe(PAGE_SIZE);
      }
    });
    expect(mm.access(page(1), AccessKind.Read)).toBe(7);
    expect(flags).toEqual([UFFD_PAGEFAULT_FLAG_MINOR]);
    assertInvariants(kernel);
  });

  it('the SIGBUS feature turns faults into SIGBUS without messages', () => {
    const { mm, ctx } = setup(UFFD_FEATURE_SIGBUS);
    mapAnon(mm, 0, 2);
    ctx.register({ range: range(0, 2), mode: UFFDIO_REGISTER_MODE_MISSING });
    ctx.setHandler(() => {
      throw new Error('no message expected');
    });
    expect(mm.access(page(0), AccessKind.Read)).toBe(-SIGBUS);
  });
});

describe('asynchronous mode', () => {
  it('resolves WP faults in place without messages', () => {
    const { mm, ctx, kernel } = setup(UFFD_FEATURE_WP_ASYNC);
    mapAnon(mm, 0, 8);
    ctx.register({ range: range(0, 8), mode: UFFDIO_REGISTER_MODE_WP });
    ctx.writeProtect({ range: range(0, 8), mode: UFFDIO_WRITEPROTECT_MODE_WP });
    expect(mm.access(page(3), AccessKind.Write, 1)).toBe(0);
    expect(ctx.pending).toBe(0);
    expect(ctx.stats.asyncResolved).toBeGreaterThan(0);
    for (let i = 0; i < 8; i++) expect(isUffdWpProtected(mm, page(i))).toBe(i !== 3);
    assertInvariants(kernel);
  });
});

describe('fork, close and the service', () => {
  it('fork without EVENT_FORK drops registration and bits; with it the child keeps them', () => {
    for (const eventFork of [false, true]) {
      const { mm, ctx, kernel } = setup(eventFork ? UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_WP_UNPOPULATED : UFFD_FEATURE_WP_UNPOPULATED);
      mapAnon(mm, 0, 4);
      writePages(mm, page(0), 2, 1);
      ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_WP });
      ctx.writeProtect({ range: range(0, 4), mode: UFFDIO_WRITEPROTECT_MODE_WP });
      const child = mm.fork();
      for (let i = 0; i < 4; i++) expect(isUffdWpProtected(child, page(i))).toBe(eventFork);
      const msgs = ctx.read();
      if (eventFork) {
        expect(Array.isArray(msgs) && msgs[0]!.event === UFFD_EVENT_FORK).toBe(true);
        const childCtx = (msgs as UffdMsg[])[0]!.event === UFFD_EVENT_FORK ? ((msgs as UffdMsg[])[0] as { ufd: UserfaultfdCtx }).ufd : null;
        expect(childCtx?.mm).toBe(child);
        expect(child.vmas.lookup(page(0))!.userfaultfdCtx).toBe(childCtx);
      } else {
        expect(msgs).toBe(-Errno.EAGAIN);
        expect(child.vmas.lookup(page(0))!.userfaultfdCtx).toBe(null);
      }
      assertInvariants(kernel);
    }
  });

  it('close() unregisters everything and drops the protection', () => {
    const { mm, ctx } = setup(UFFD_FEATURE_WP_UNPOPULATED);
    mapAnon(mm, 0, 4);
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_WP });
    ctx.writeProtect({ range: range(0, 4), mode: UFFDIO_WRITEPROTECT_MODE_WP });
    ctx.close();
    expect(mm.vmas.lookup(page(0))!.userfaultfdCtx).toBe(null);
    expect(isUffdWpProtected(mm, page(0))).toBe(false);
    expect(ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_WP })).toBe(-Errno.EINVAL);
  });

  it('is reachable through its token and the UffdWpAsyncQueryToken', () => {
    const kernel = createKernel({ features: [uffdWp] });
    expect(kernel.resolve(UffdWp)[0]).toBeDefined();
    expect(kernel.resolve(UffdWpAsyncQueryToken)[0]).toBe(kernel.resolve(UffdWp)[0]);
    const mm = kernel.createMm();
    const ctx = userfaultfd(mm) as UserfaultfdCtx;
    ctx.api({ api: UFFD_API, features: UFFD_FEATURE_WP_ASYNC });
    const addr = mm.mmap(page(0), 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    ctx.register({ range: range(0, 4), mode: UFFDIO_REGISTER_MODE_WP });
    const service = kernel.resolve(UffdWp)[0]!;
    const vma = mm.vmas.lookup(addr)!;
    expect(service.isWpAsync(vma)).toBe(true);
    expect(service.useMarkers(vma)).toBe(true);
    expect(service.writeProtectRange(mm, vma, page(0), page(4), true)).toBe(4);
  });
});
