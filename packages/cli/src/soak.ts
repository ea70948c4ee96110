// `pagewalk soak`: long random runs straight against the library API, with
// every installed feature (guard pages, userfaultfd, device migration), THP
// `always`, fork trees, several mappings of one memfd and partial munmap.
// After every op: checkInvariants, and the bytes of the pages the op could
// have changed (in every process) against a byte model; every 256 ops and at
// the end of each episode, every byte of every mapped page. Any exception is
// a failure. A failure is shrunk (delta debugging on the op list of its
// episode) and printed as a reproduction.
//
// The run is a sequence of episodes (a fresh kernel each, EPISODE_OPS ops),
// so a reproduction is short and host memory stays bounded. Ops are drawn
// from a seeded generator independently of the state, so an episode's ops
// are a pure function of (seed, episode) and replay exactly.
import {
  AccessKind,
  CLEAR_REFS_SOFT_DIRTY,
  Errno,
  MADV_COLD,
  MADV_COLLAPSE,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_REMOVE,
  MADV_WILLNEED,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PG_ANON,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGKILL,
  SIGSEGV,
  checkInvariants,
  createKernel,
  isGuardPteMarker,
  isPteMarker,
  ptePfn,
  ptePresent,
  type Feature,
  type Kernel,
  type KernelProfile,
  type Mm,
  type ShmemFile,
} from '@pagewalk/core-walk';
import { peekPage } from '@pagewalk/core-walk/testing';

/* ------------------------------------------------------------ features */

/** The parts of the optional feature packages the soak drives (absent when not installed). */
export interface SoakFeatures {
  guardPages?: { feature: Feature };
  uffd?: {
    feature: Feature;
    open(mm: Mm): SoakUffd | null;
  };
  hmm?: {
    feature: Feature;
    device(kernel: Kernel): SoakDevice;
  };
}
export interface SoakUffd {
  register(start: number, len: number, missing: boolean, wp: boolean): number;
  unregister(start: number, len: number): number;
  writeProtect(start: number, len: number, wp: boolean): number;
}
export interface SoakMirror {
  read(addr: number, pages: number): { ret: number; data?: Uint8Array };
  write(addr: number, pages: number, data: Uint8Array): { ret: number };
  migrateToDevice(addr: number, pages: number): { ret: number };
  migrateToSystem(addr: number, pages: number): { ret: number };
}
export interface SoakDevice {
  open(mm: Mm): SoakMirror;
}

/** Loads the installed feature packages (each optional) and adapts them. */
export async function loadSoakFeatures(): Promise<SoakFeatures> {
  const features: SoakFeatures = {};
  const tryImport = async (specifier: string): Promise<Record<string, unknown> | null> => {
    try {
      return (await import(specifier)) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof Error && error.message.includes(specifier)) return null;
      throw error;
    }
  };
  const guard = await tryImport('@pagewalk/guard-pages');
  if (guard !== null) features.guardPages = { feature: guard.guardPages as Feature };
  const uffd = await tryImport('@pagewalk/uffd-wp');
  if (uffd !== null) features.uffd = uffdAdapter(uffd);
  const hmm = await tryImport('@pagewalk/hmm-migrate');
  if (hmm !== null) {
    const Device = hmm.HmmTestDevice as new (kernel: Kernel, name: string) => SoakDevice;
    features.hmm = { feature: hmm.hmmMigrate as Feature, device: (kernel) => new Device(kernel, 'soak') };
  }
  return features;
}

interface UffdCtxLike {
  api(arg: { api: number; features: number }): number;
  setHandler(handler: (ctx: UffdCtxLike) => void): void;
  read(): { event: number; address?: number }[] | number;
  register(arg: { range: { start: number; len: number }; mode: number }): number;
  unregister(range: { start: number; len: number }): number;
  writeProtect(arg: { range: { start: number; len: number }; mode: number }): number;
  copy(arg: { dst: number; src: Uint8Array; len: number; mode: number; copy: number }): number;
  zeropage(arg: { range: { start: number; len: number }; mode: number }): number;
}

const ZERO_PAGE_BYTES = new Uint8Array(PAGE_SIZE);

function uffdAdapter(module: Record<string, unknown>): NonNullable<SoakFeatures['uffd']> {
  const open = module.userfaultfd as (mm: Mm) => UffdCtxLike | number;
  const n = (name: string) => module[name] as number;
  return {
    feature: module.uffdWp as Feature,
    open(mm) {
      const ctx = open(mm);
      if (typeof ctx === 'number') return null;
      // WP_ASYNC: write-protect faults resolve themselves; MISSING faults are
      // answered with zeros (COPY of a zero page, or ZEROPAGE), which leaves
      // the byte model as it was (a missing page reads as zero either way).
      if (ctx.api({ api: n('UFFD_API'), features: n('UFFD_FEATURE_WP_ASYNC') }) !== 0) return null;
      let flip = 0;
      ctx.setHandler((c) => {
        const msgs = c.read();
        if (typeof msgs === 'number') return;
        for (const msg of msgs) {
          if (msg.event !== n('UFFD_EVENT_PAGEFAULT') || msg.address === undefined) continue;
          const dst = msg.address - (msg.address % PAGE_SIZE);
          flip ^= 1;
          // ZEROPAGE refuses a PTE holding an uffd-wp marker (EEXIST), as the kernel's does; COPY takes it.
          if (flip === 0 && c.zeropage({ range: { start: dst, len: PAGE_SIZE }, mode: 0 }) === 0) continue;
          c.copy({ dst, src: ZERO_PAGE_BYTES, len: PAGE_SIZE, mode: 0, copy: 0 });
        }
      });
      return {
        register: (start, len, missing, wp) =>
          ctx.register({ range: { start, len }, mode: (missing ? n('UFFDIO_REGISTER_MODE_MISSING') : 0) | (wp ? n('UFFDIO_REGISTER_MODE_WP') : 0) }),
        unregister: (start, len) => ctx.unregister({ start, len }),
        writeProtect: (start, len, wp) => ctx.writeProtect({ range: { start, len }, mode: wp ? n('UFFDIO_WRITEPROTECT_MODE_WP') : 0 }),
      };
    },
  };
}

/* ------------------------------------------------------------ random ops */

/** mulberry32: a small, fast, seedable generator. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const ARENA = 1024; // pages: two 2 MiB regions
const FILE_PAGES = 64;
export const EPISODE_OPS = 2000;

export type SoakOp =
  | { op: 'mmap'; who: number; page: number; pages: number; prot: number; shared: boolean; file: number; pgoff: number; populate: boolean }
  | { op: 'munmap' | 'mlock' | 'munlock' | 'dev_migrate' | 'dev_migrate_back' | 'dev_read'; who: number; page: number; pages: number }
  | { op: 'mprotect'; who: number; page: number; pages: number; prot: number }
  | { op: 'madvise'; who: number; page: number; pages: number; advice: number }
  | { op: 'write'; who: number; page: number; offset: number; length: number; value: number }
  | { op: 'read'; who: number; page: number; offset: number; length: number }
  | { op: 'dev_write'; who: number; page: number; pages: number; offset: number; value: number }
  | { op: 'uffd_register'; who: number; page: number; pages: number; missing: boolean; wp: boolean }
  | { op: 'uffd_unregister'; who: number; page: number; pages: number }
  | { op: 'uffd_wp'; who: number; page: number; pages: number; wp: boolean }
  | { op: 'fork' | 'exit' | 'clear_soft_dirty'; who: number };

const ADVICE = [MADV_DONTNEED, MADV_FREE, MADV_PAGEOUT, MADV_COLD, MADV_WILLNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_REMOVE, MADV_COLLAPSE];
const GUARD_ADVICE = [MADV_GUARD_INSTALL, MADV_GUARD_REMOVE];
const PROTS = [PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE];

function drawPage(r: Random): number {
  // Pages cluster at the start and around the PMD boundary, so ops meet each other.
  const kind = r.int(3);
  return kind === 0 ? r.int(16) : kind === 1 ? 504 + r.int(16) : r.int(ARENA);
}
function drawPages(r: Random, page: number): number {
  const n = r.int(4) === 0 ? 1 + r.int(600) : 1 + r.int(16);
  return Math.max(1, Math.min(n, ARENA - page));
}
function drawOffset(r: Random): number {
  return r.int(2) === 0 ? r.pick([0, 1, 2048, 4095]) : r.int(PAGE_SIZE);
}

/** One op, from the generator alone (never from the state). */
export function drawOp(r: Random, features: SoakFeatures): SoakOp {
  const who = r.int(4);
  const page = drawPage(r);
  const roll = r.int(100);
  if (roll < 12) {
    return { op: 'mmap', who, page, pages: drawPages(r, page), prot: r.pick(PROTS), shared: r.int(2) === 0, file: r.int(3) - 2, pgoff: r.int(FILE_PAGES), populate: r.int(4) === 0 };
  }
  if (roll < 16) return { op: 'munmap', who, page, pages: drawPages(r, page) };
  if (roll < 20) return { op: 'mprotect', who, page, pages: drawPages(r, page), prot: r.pick(PROTS) };
  if (roll < 22) return { op: r.int(2) === 0 ? 'mlock' : 'munlock', who, page, pages: drawPages(r, page) };
  if (roll < 34) {
    const advice = features.guardPages !== undefined && r.int(5) === 0 ? r.pick(GUARD_ADVICE) : r.pick(ADVICE);
    return { op: 'madvise', who, page, pages: drawPages(r, page), advice };
  }
  if (roll < 56) {
    const length = r.int(8) === 0 ? 1 + r.int(2 * PAGE_SIZE + 1) : 1 + r.int(8);
    return { op: 'write', who, page, offset: drawOffset(r), length, value: 1 + r.int(255) };
  }
  if (roll < 72) {
    const length = r.int(8) === 0 ? 1 + r.int(2 * PAGE_SIZE + 1) : 1 + r.int(8);
    return { op: 'read', who, page, offset: drawOffset(r), length };
  }
  if (roll < 76) return { op: 'fork', who };
  if (roll < 78) return { op: 'exit', who };
  if (roll < 79) return { op: 'clear_soft_dirty', who };
  if (features.uffd !== undefined && roll < 85) {
    const kind = r.int(3);
    const pages = drawPages(r, page);
    if (kind === 0) return { op: 'uffd_register', who, page, pages, missing: r.int(2) === 0, wp: r.int(2) === 0 };
    if (kind === 1) return { op: 'uffd_unregister', who, page, pages };
    return { op: 'uffd_wp', who, page, pages, wp: r.int(3) !== 0 };
  }
  if (features.hmm !== undefined && roll >= 85) {
    const pages = Math.min(drawPages(r, page), 32);
    const kind = r.int(4);
    if (kind === 0) return { op: 'dev_migrate', who, page, pages };
    if (kind === 1) return { op: 'dev_migrate_back', who, page, pages };
    if (kind === 2) return { op: 'dev_read', who, page, pages };
    return { op: 'dev_write', who, page, pages, offset: drawOffset(r), value: 1 + r.int(255) };
  }
  return { op: 'read', who, page, offset: drawOffset(r), length: 1 };
}

/* ------------------------------------------------------------ the model */

const addrOf = (base: number, page: number) => base + page * PAGE_SIZE;
/** A 1 GiB-aligned arena base. */
const BASE = 0x7e0000000000;

type Backing = { kind: 'anon' } | { kind: 'file'; file: ShmemFile; pgoff: number };
interface PageMap {
  prot: number;
  shared: boolean;
  backing: Backing;
}
interface PrivatePage {
  bytes: Uint8Array;
  /** After MADV_FREE: these bytes, or all zero if reclaim discarded the page. */
  lazyfree: boolean;
}
interface Proc {
  mm: Mm;
  maps: Map<number, PageMap>;
  priv: Map<number, PrivatePage>;
  uffd: SoakUffd | null | undefined;
  mirror: SoakMirror | undefined;
}

export class SoakFailure extends Error {
  override readonly name = 'SoakFailure';
}

function fail(message: string): never {
  throw new SoakFailure(message);
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
const ZERO_BUFFER = Buffer.alloc(PAGE_SIZE);

function isZero(bytes: Uint8Array | null | undefined): boolean {
  if (bytes === null || bytes === undefined) return true;
  return bytes.length === PAGE_SIZE ? asBuffer(bytes).equals(ZERO_BUFFER) : bytes.every((b) => b === 0);
}

/** Whole-page equality, absent meaning zero (a native compare: this runs for every checked page). */
function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array | undefined): boolean {
  if (a === null || a === undefined) return isZero(b);
  if (b === undefined) return isZero(a);
  return asBuffer(a).equals(asBuffer(b));
}

/** One episode's world: a kernel, up to four processes, the memfds, the byte model. */
class World {
  readonly kernel: Kernel;
  readonly procs: Proc[] = [];
  readonly files: ShmemFile[] = [];
  readonly fileBytes = new Map<ShmemFile, Map<number, Uint8Array>>();
  readonly device: SoakDevice | null;

  constructor(
    readonly features: SoakFeatures,
    readonly profile: Partial<KernelProfile>,
  ) {
    const list: Feature[] = [];
    if (features.guardPages) list.push(features.guardPages.feature);
    if (features.uffd) list.push(features.uffd.feature);
    if (features.hmm) list.push(features.hmm.feature);
    this.kernel = createKernel({ profile, features: list });
    this.device = features.hmm ? features.hmm.device(this.kernel) : null;
    this.procs.push(this.newProc(this.kernel.createMm()));
  }

  newProc(mm: Mm): Proc {
    return { mm, maps: new Map(), priv: new Map(), uffd: undefined, mirror: undefined };
  }

  filePage(backing: Backing, page: number, create: boolean): Uint8Array | undefined {
    if (backing.kind !== 'file') return undefined;
    const pages = this.fileBytes.get(backing.file)!;
    const index = backing.pgoff + page;
    let bytes = pages.get(index);
    if (bytes === undefined && create) {
      bytes = new Uint8Array(PAGE_SIZE);
      pages.set(index, bytes);
    }
    return bytes;
  }

  expected(p: Proc, page: number): { bytes: Uint8Array | undefined; orZero: boolean } {
    const map = p.maps.get(page)!;
    if (!map.shared) {
      const own = p.priv.get(page);
      if (own !== undefined) return { bytes: own.bytes, orZero: own.lazyfree };
    }
    return { bytes: this.filePage(map.backing, page, false), orZero: false };
  }

  isGuarded(p: Proc, page: number): boolean {
    const entry = p.mm.leafEntry(addrOf(BASE, page));
    return isPteMarker(entry) && isGuardPteMarker(entry);
  }

  checkPage(who: number, p: Proc, page: number): void {
    const map = p.maps.get(page);
    if (map === undefined || map.prot === PROT_NONE) return;
    const actual = peekPage(p.mm, addrOf(BASE, page));
    if (actual === undefined) {
      if (this.isGuarded(p, page)) return;
      fail(`process ${who} page ${page}: mapped in the model, nothing in the kernel`);
    }
    const { bytes, orZero } = this.expected(p, page);
    if (sameBytes(actual, bytes) || (orZero && isZero(actual))) return;
    for (let i = 0; i < PAGE_SIZE; i++) {
      const x = actual?.[i] ?? 0;
      const y = bytes?.[i] ?? 0;
      if (x !== y) fail(`process ${who} page ${page} (${map.shared ? 'shared' : 'private'} ${map.backing.kind}) offset ${i}: kernel ${x}, model ${y}`);
    }
  }

  checkRange(page: number, pages: number): void {
    for (const [who, p] of this.procs.entries()) {
      for (let i = Math.max(0, page); i < Math.min(ARENA, page + pages); i++) this.checkPage(who, p, i);
    }
  }

  checkAll(): void {
    for (const [who, p] of this.procs.entries()) for (const page of p.maps.keys()) this.checkPage(who, p, page);
  }

  checkInvariants(): void {
    const problems = checkInvariants(this.kernel);
    if (problems.length > 0) fail(`invariants: ${problems.slice(0, 3).join('; ')}`);
  }

  /**
   * Private file pages that a populate (MAP_POPULATE, mlock, POPULATE_WRITE)
   * copied from the file are now the process's own: later writes to the file
   * no longer show through them.
   */
  adoptPopulatedCopies(p: Proc, page: number, pages: number): void {
    if (p.mm.killed) return;
    for (let i = page; i < Math.min(ARENA, page + pages); i++) {
      const map = p.maps.get(i);
      if (map === undefined || map.shared || map.backing.kind !== 'file' || p.priv.has(i)) continue;
      const entry = p.mm.leafEntry(addrOf(BASE, i));
      if (!ptePresent(entry) || !this.kernel.frames.has(this.kernel.frames.folioOf(ptePfn(entry)), PG_ANON)) continue;
      p.priv.set(i, { bytes: this.filePage(map.backing, i, false)?.slice() ?? new Uint8Array(PAGE_SIZE), lazyfree: false });
    }
  }

  /** After a zapping op that failed part-way: private data whose entry is gone was dropped. */
  dropZappedPrivate(p: Proc, page: number, pages: number): void {
    if (p.mm.killed) return;
    for (let i = page; i < Math.min(ARENA, page + pages); i++) {
      if (!p.priv.has(i)) continue;
      const entry = p.mm.leafEntry(addrOf(BASE, i));
      if (entry === 0 || isPteMarker(entry)) p.priv.delete(i);
    }
  }

  /** Processes the OOM killer took are gone from the model; an episode always keeps one process. */
  reapKilled(): void {
    for (let i = this.procs.length - 1; i >= 0; i--) if (this.procs[i]!.mm.killed) this.procs.splice(i, 1);
    if (this.procs.length === 0) this.procs.push(this.newProc(this.kernel.createMm()));
  }

  exit(index: number): void {
    const p = this.procs[index]!;
    p.mm.exit();
    this.procs.splice(index, 1);
  }

  /** Ends the episode: everything unmapped and closed must give every frame back. */
  finish(): void {
    while (this.procs.length > 0) this.exit(this.procs.length - 1);
    for (const file of this.files) this.kernel.closeFile(file);
    this.checkInvariants();
    // The shared zero page and the huge zero page stay; device pages are the driver's.
    if (this.kernel.frames.used > 1 + 512 + (this.device === null ? 0 : 4096)) fail(`${this.kernel.frames.used} frames still in use after every process exited`);
  }
}

function range(op: { page: number; pages: number }): [number, number] {
  return [addrOf(BASE, op.page), Math.min(op.pages, ARENA - op.page) * PAGE_SIZE];
}

/** Runs one op and updates the model; returns the pages whose bytes to check now [first, count]. */
function apply(world: World, op: SoakOp): [number, number] {
  const index = op.who % world.procs.length;
  const p = world.procs[index]!;
  const mm = p.mm;
  switch (op.op) {
    case 'mmap': {
      let pages = Math.min(op.pages, ARENA - op.page);
      let file: ShmemFile | null = null;
      let pgoff = 0;
      if (op.file === -1 || (op.file === 0 && world.files.length === 0)) {
        const made = world.kernel.memfdCreate('soak', FILE_PAGES * PAGE_SIZE);
        if (typeof made === 'number') fail(`memfd_create: ${made}`);
        file = made;
        world.files.push(file);
        world.fileBytes.set(file, new Map());
      } else if (op.file === 0) {
        file = world.files[op.pgoff % world.files.length]!;
        pgoff = op.pgoff;
      }
      if (file !== null) pages = Math.min(pages, FILE_PAGES - pgoff);
      const flags = (op.shared ? MAP_SHARED : MAP_PRIVATE) | (file ? 0 : MAP_ANONYMOUS) | MAP_FIXED_NOREPLACE | (op.populate ? MAP_POPULATE : 0);
      const r = mm.mmap(addrOf(BASE, op.page), pages * PAGE_SIZE, op.prot, flags, file, pgoff * PAGE_SIZE);
      if (r < 0) {
        if (r !== -Errno.EEXIST) fail(`mmap: ${r}`);
        return [0, 0];
      }
      if (mm.killed) return [0, 0]; // MAP_POPULATE ran out of memory and the OOM killer took this process
      let backing: Backing = file ? { kind: 'file', file, pgoff: pgoff - op.page } : { kind: 'anon' };
      if (!file && op.shared) {
        const vma = mm.vmas.lookup(addrOf(BASE, op.page))!;
        world.fileBytes.set(vma.file!, new Map());
        backing = { kind: 'file', file: vma.file!, pgoff: -op.page };
      }
      for (let i = 0; i < pages; i++) {
        p.maps.set(op.page + i, { prot: op.prot, shared: op.shared, backing });
        p.priv.delete(op.page + i);
      }
      if (op.populate) world.adoptPopulatedCopies(p, op.page, pages);
      return [op.page, pages];
    }
    case 'munmap': {
      const [start, len] = range(op);
      const r = mm.munmap(start, len);
      if (r !== 0) fail(`munmap: ${r}`);
      for (let i = op.page; i < op.page + len / PAGE_SIZE; i++) {
        p.maps.delete(i);
        p.priv.delete(i);
      }
      return [op.page, len / PAGE_SIZE];
    }
    case 'mprotect': {
      const [start, len] = range(op);
      const r = mm.mprotect(start, len, op.prot);
      if (r === 0 || r === -Errno.ENOMEM) {
        for (let i = op.page; i < op.page + len / PAGE_SIZE; i++) {
          const map = p.maps.get(i);
          if (map === undefined) break;
          map.prot = op.prot;
        }
      }
      return [op.page, len / PAGE_SIZE];
    }
    case 'mlock': {
      const [start, len] = range(op);
      mm.mlock(start, len);
      world.adoptPopulatedCopies(p, op.page, len / PAGE_SIZE);
      return [op.page, len / PAGE_SIZE];
    }
    case 'munlock': {
      const [start, len] = range(op);
      mm.munlock(start, len);
      return [op.page, len / PAGE_SIZE];
    }
    case 'madvise': {
      const [start, len] = range(op);
      const pages = len / PAGE_SIZE;
      const r = mm.madvise(start, len, op.advice);
      const whole = r === 0 || r === -Errno.ENOMEM;
      for (let i = op.page; i < op.page + pages; i++) {
        const map = p.maps.get(i);
        if (map === undefined) continue;
        if (op.advice === MADV_DONTNEED && whole && !map.shared) p.priv.delete(i);
        if (op.advice === MADV_FREE && !map.shared && map.backing.kind === 'anon') {
          const own = p.priv.get(i);
          if (own !== undefined) own.lazyfree = true;
        }
        if (op.advice === MADV_REMOVE && map.shared && map.backing.kind === 'file') {
          const fileIndex = map.backing.pgoff + i;
          if (whole || map.backing.file.cache.get(fileIndex) === 0) world.fileBytes.get(map.backing.file)!.delete(fileIndex);
        }
      }
      if (op.advice === MADV_POPULATE_WRITE) world.adoptPopulatedCopies(p, op.page, pages);
      // Part-way failures, guard installation and MADV_FREE of swapped pages: look at what was zapped.
      if (!whole || op.advice === MADV_GUARD_INSTALL || op.advice === MADV_FREE) world.dropZappedPrivate(p, op.page, pages);
      return [op.page, pages];
    }
    case 'write': {
      for (let i = 0; i < op.length; i++) {
        const page = op.page + Math.floor((op.offset + i) / PAGE_SIZE);
        const offset = (op.offset + i) % PAGE_SIZE;
        const map = page < ARENA ? p.maps.get(page) : undefined;
        const guarded = map !== undefined && world.isGuarded(p, page);
        const r = mm.access(addrOf(BASE, op.page) + op.offset + i, AccessKind.Write, op.value);
        if (r === -SIGKILL && mm.killed) return [0, 0]; // RAM full and this process was the OOM killer's victim
        if (map === undefined || (map.prot & PROT_WRITE) === 0 || guarded) {
          if (r !== -SIGSEGV) fail(`write page ${page} offset ${offset}: ${r}, expected SIGSEGV`);
          return [op.page, page - op.page + 1];
        }
        if (r !== 0) fail(`write page ${page} offset ${offset}: ${r}`);
        if (map.shared) {
          world.filePage(map.backing, page, true)![offset] = op.value;
          continue;
        }
        let own = p.priv.get(page);
        if (own === undefined) {
          own = { bytes: world.filePage(map.backing, page, false)?.slice() ?? new Uint8Array(PAGE_SIZE), lazyfree: false };
          p.priv.set(page, own);
        } else if (own.lazyfree) {
          // Dirty again: whatever reclaim left (the old bytes, or zeros) is now definite.
          own.lazyfree = false;
          const seen = peekPage(mm, addrOf(BASE, page));
          let zeroed = true;
          for (let k = 0; k < PAGE_SIZE && zeroed; k++) if (k !== offset && (seen?.[k] ?? 0) !== 0) zeroed = false;
          if (zeroed) own.bytes.fill(0);
        }
        own.bytes[offset] = op.value;
      }
      return [op.page, Math.ceil((op.offset + op.length) / PAGE_SIZE)];
    }
    case 'read': {
      for (let i = 0; i < op.length; i++) {
        const page = op.page + Math.floor((op.offset + i) / PAGE_SIZE);
        const offset = (op.offset + i) % PAGE_SIZE;
        const map = page < ARENA ? p.maps.get(page) : undefined;
        const guarded = map !== undefined && world.isGuarded(p, page);
        const r = mm.access(addrOf(BASE, op.page) + op.offset + i, AccessKind.Read);
        if (r === -SIGKILL && mm.killed) return [0, 0];
        if (map === undefined || map.prot === PROT_NONE || guarded) {
          if (r !== -SIGSEGV) fail(`read page ${page} offset ${offset}: ${r}, expected SIGSEGV`);
          return [op.page, page - op.page + 1];
        }
        const { bytes, orZero } = world.expected(p, page);
        const want = bytes?.[offset] ?? 0;
        if (r === want) continue;
        if (orZero && r === 0) {
          p.priv.delete(page); // the lazily freed page was discarded
          continue;
        }
        fail(`read page ${page} offset ${offset}: kernel ${r}, model ${want}`);
      }
      return [op.page, Math.ceil((op.offset + op.length) / PAGE_SIZE)];
    }
    case 'fork': {
      if (world.procs.length >= 4) return [0, 0];
      const child = world.newProc(mm.fork());
      for (const [k, v] of p.maps) child.maps.set(k, { ...v });
      for (const [k, v] of p.priv) child.priv.set(k, { bytes: v.bytes.slice(), lazyfree: v.lazyfree });
      world.procs.push(child);
      return [0, 0];
    }
    case 'exit': {
      if (world.procs.length > 1) world.exit(index);
      return [0, 0];
    }
    case 'clear_soft_dirty':
      mm.clearRefs(CLEAR_REFS_SOFT_DIRTY);
      return [0, 0];
    case 'uffd_register':
    case 'uffd_unregister':
    case 'uffd_wp': {
      if (p.uffd === undefined) p.uffd = world.features.uffd?.open(mm) ?? null;
      if (p.uffd === null) return [0, 0];
      const [start, len] = range(op);
      if (op.op === 'uffd_register') p.uffd.register(start, len, op.missing, op.wp);
      else if (op.op === 'uffd_unregister') p.uffd.unregister(start, len);
      else p.uffd.writeProtect(start, len, op.wp);
      return [op.page, len / PAGE_SIZE];
    }
    case 'dev_migrate':
    case 'dev_migrate_back':
    case 'dev_read':
    case 'dev_write': {
      if (world.device === null) return [0, 0];
      p.mirror ??= world.device.open(mm);
      const pages = Math.min(op.pages, ARENA - op.page);
      const start = addrOf(BASE, op.page);
      if (op.op === 'dev_migrate') p.mirror.migrateToDevice(start, pages);
      else if (op.op === 'dev_migrate_back') p.mirror.migrateToSystem(start, pages);
      else if (op.op === 'dev_read') {
        const result = p.mirror.read(start, pages);
        if (result.ret === 0 && result.data !== undefined) {
          for (let i = 0; i < pages; i++) {
            const page = op.page + i;
            if (!p.maps.has(page)) fail(`device read of unmapped page ${page} succeeded`);
            const { bytes, orZero } = world.expected(p, page);
            const got = result.data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
            if (orZero && isZero(got)) continue;
            for (let k = 0; k < PAGE_SIZE; k++) {
              if (got[k] !== (bytes?.[k] ?? 0)) fail(`device read page ${page} offset ${k}: device ${got[k]}, model ${bytes?.[k] ?? 0}`);
            }
          }
        }
      } else if (op.op === 'dev_write') {
        // A device write replaces whole pages: the model's bytes with one byte changed, on definite pages only.
        const data = new Uint8Array(pages * PAGE_SIZE);
        for (let i = 0; i < pages; i++) {
          const map = p.maps.get(op.page + i);
          if (map === undefined || (map.prot & PROT_WRITE) === 0 || world.isGuarded(p, op.page + i)) return [0, 0];
          const { bytes, orZero } = world.expected(p, op.page + i);
          if (orZero) return [0, 0];
          if (bytes !== undefined) data.set(bytes, i * PAGE_SIZE);
          data[i * PAGE_SIZE + op.offset] = op.value;
        }
        const result = p.mirror.write(start, pages, data);
        // The device's write faults broke COW on private file pages (even where it then failed): those copies are the process's own now.
        world.adoptPopulatedCopies(p, op.page, pages);
        for (let i = 0; i < pages; i++) {
          const page = op.page + i;
          const map = p.maps.get(page)!;
          // A failed device write may have written its first pages (test_hmm copies page by page): look.
          if (result.ret !== 0 && !sameBytes(peekPage(mm, addrOf(BASE, page)), data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE))) continue;
          if (map.shared) world.filePage(map.backing, page, true)![op.offset] = op.value;
          else {
            let own = p.priv.get(page);
            if (own === undefined) {
              own = { bytes: world.filePage(map.backing, page, false)?.slice() ?? new Uint8Array(PAGE_SIZE), lazyfree: false };
              p.priv.set(page, own);
            }
            own.bytes[op.offset] = op.value;
          }
        }
      }
      return [op.page, pages];
    }
  }
}

/* ------------------------------------------------------------ running */

export interface SoakEpisode {
  profile: Partial<KernelProfile>;
  ops: SoakOp[];
}

const PROFILES: Partial<KernelProfile>[] = [
  { thp: 'always', swap: true },
  { thp: 'always', swap: false },
  { thp: 'madvise', swap: true },
  { thp: 'never', swap: true },
  // Small RAM: faults and populates run out of memory and the OOM killer takes processes.
  { thp: 'never', swap: false, ramPages: 400, overcommit: 'always' },
  { thp: 'always', swap: true, ramPages: 1100, overcommit: 'always' },
];

/** Seed of episode `episode` of a run with `seed`. */
function episodeSeed(seed: number, episode: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(episode + 1, 0xc2b2ae35)) >>> 0;
}

/** The ops of one episode (a pure function of seed and episode). */
export function drawEpisode(seed: number, episode: number, count: number, features: SoakFeatures): SoakEpisode {
  const r = new Random(episodeSeed(seed, episode));
  const profile = PROFILES[r.int(PROFILES.length)]!;
  // No userfaultfd ops with a small RAM: a handler that cannot allocate leaves its fault waiting.
  const drawn = profile.ramPages === undefined ? features : { ...features, uffd: undefined };
  const ops: SoakOp[] = [];
  for (let i = 0; i < count; i++) ops.push(drawOp(r, drawn));
  return { profile, ops };
}

/** Runs an episode; returns null, or the failing op index and message. */
export function runEpisode(episode: SoakEpisode, features: SoakFeatures, fullCheckEvery = 256): { index: number; message: string } | null {
  let world: World;
  try {
    world = new World(features, episode.profile);
  } catch (error) {
    return { index: -1, message: describe(error) };
  }
  for (let i = 0; i < episode.ops.length; i++) {
    try {
      const [page, pages] = apply(world, episode.ops[i]!);
      world.reapKilled();
      world.checkInvariants();
      world.checkRange(page, pages);
      if ((i + 1) % fullCheckEvery === 0) world.checkAll();
    } catch (error) {
      return { index: i, message: describe(error) };
    }
  }
  try {
    world.checkAll();
    world.finish();
  } catch (error) {
    return { index: episode.ops.length, message: describe(error) };
  }
  return null;
}

function describe(error: unknown): string {
  if (error instanceof SoakFailure) return error.message;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `exception: ${text.split('\n')[0]}`;
}

/** Delta debugging: the shortest op list (greedy) that still fails. */
export function shrinkEpisode(episode: SoakEpisode, features: SoakFeatures, budget = 2000): SoakEpisode {
  let ops = episode.ops;
  const fails = (candidate: SoakOp[]) => runEpisode({ profile: episode.profile, ops: candidate }, features, 1) !== null;
  let tries = 0;
  for (let chunk = Math.max(1, ops.length >> 1); chunk >= 1 && tries < budget; chunk >>= 1) {
    let removed = true;
    while (removed && tries < budget) {
      removed = false;
      for (let start = ops.length - chunk; start >= 0 && tries < budget; start -= chunk) {
        const candidate = [...ops.slice(0, start), ...ops.slice(start + chunk)];
        tries++;
        if (fails(candidate)) {
          ops = candidate;
          removed = true;
        }
      }
    }
  }
  return { profile: episode.profile, ops };
}

export interface SoakReport {
  ops: number;
  episodes: number;
  seconds: number;
  violations: number;
  failure: null | { episode: number; opIndex: number; message: string; reproduction: SoakEpisode; shrunkMessage: string };
}

export interface SoakOptions {
  ops: number;
  seed: number;
  features: SoakFeatures;
  /** Called after each episode. */
  onProgress?: (done: number, total: number) => void;
  /** Skip shrinking (tests). */
  shrink?: boolean;
}

/** Runs `ops` random ops in episodes; stops at the first violation. */
export function runSoak(options: SoakOptions): SoakReport {
  const started = performance.now();
  let done = 0;
  let episodes = 0;
  while (done < options.ops) {
    const count = Math.min(EPISODE_OPS, options.ops - done);
    const episode = drawEpisode(options.seed, episodes, count, options.features);
    const failure = runEpisode(episode, options.features);
    if (failure !== null) {
      const seconds = (performance.now() - started) / 1000;
      const failing: SoakEpisode = { profile: episode.profile, ops: episode.ops.slice(0, failure.index + 1) };
      const reproduction = options.shrink === false ? failing : shrinkEpisode(failing, options.features);
      const shrunk = runEpisode(reproduction, options.features, 1);
      return {
        ops: done + Math.max(0, failure.index + 1),
        episodes: episodes + 1,
        seconds,
        violations: 1,
        failure: { episode: episodes, opIndex: failure.index, message: failure.message, reproduction, shrunkMessage: shrunk?.message ?? failure.message },
      };
    }
    done += count;
    episodes++;
    options.onProgress?.(done, options.ops);
  }
  return { ops: done, episodes, seconds: (performance.now() - started) / 1000, violations: 0, failure: null };
}

/** A reproduction as a standalone description: profile, then one op per line. */
export function formatReproduction(episode: SoakEpisode): string {
  return [`profile ${JSON.stringify(episode.profile)}`, ...episode.ops.map((op) => JSON.stringify(op))].join('\n');
}
