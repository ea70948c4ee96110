// Handlers of the ops the core simulator implements by itself: the mm
// syscalls, memory accesses and clear_refs. Each one translates page numbers
// to addresses and the simulator's 0 / -errno / -signal convention to a result.
import {
  AccessKind,
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
  MAP_HUGETLB,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
  SIGSEGV,
  errnoName,
  NOT_MODELLED,
} from '@pagewalk/core-walk';
import type { AdviceName, OpName, OpResult, ProtName, ScenarioOpOf, SignalName } from '@pagewalk/scenario';
import { PAGE_SIZE, type ScenarioContext, type ScenarioOpHandler } from './scenario-session.js';

export const PROT_VALUES: Record<ProtName, number> = {
  none: PROT_NONE,
  r: PROT_READ,
  rw: PROT_READ | PROT_WRITE,
  rx: PROT_READ | PROT_EXEC,
  rwx: PROT_READ | PROT_WRITE | PROT_EXEC,
};

export const ADVICE_VALUES: Record<AdviceName, number> = {
  dontneed: MADV_DONTNEED,
  free: MADV_FREE,
  pageout: MADV_PAGEOUT,
  cold: MADV_COLD,
  willneed: MADV_WILLNEED,
  hugepage: MADV_HUGEPAGE,
  nohugepage: MADV_NOHUGEPAGE,
  populate_read: MADV_POPULATE_READ,
  populate_write: MADV_POPULATE_WRITE,
  remove: MADV_REMOVE,
  collapse: MADV_COLLAPSE,
  guard_install: MADV_GUARD_INSTALL,
  guard_remove: MADV_GUARD_REMOVE,
};

/** `clear_refs` value that clears soft-dirty bits. */
const CLEAR_REFS_SOFT_DIRTY = 4;

/** The result of a syscall-like op from the simulator's `value >= 0 | -errno`. */
export function syscallResult(op: OpName, value: number): OpResult {
  // A case the simulator does not model: nothing to compare.
  if (value === NOT_MODELLED) return { op, unsupported: true };
  return value >= 0 ? { op, ret: 0 } : { op, ret: -1, errno: errnoName(-value) };
}

/** The signal name of an access's negative return value. */
export function signalOf(value: number): SignalName {
  if (value === -SIGSEGV) return 'SIGSEGV';
  if (value === -SIGBUS) return 'SIGBUS';
  throw new Error(`simulator access returned ${value}, which is neither a byte nor -SIGSEGV/-SIGBUS`);
}

function handler<Name extends OpName>(run: (op: ScenarioOpOf<Name>, context: ScenarioContext) => OpResult): ScenarioOpHandler {
  return (op, context) => run(op as ScenarioOpOf<Name>, context);
}

const rangeLength = (pages: number) => pages * PAGE_SIZE;

export const CORE_OP_HANDLERS: Partial<Record<OpName, ScenarioOpHandler>> = {
  mmap: handler<'mmap'>((op, { kernel, mm, addressOf }) => {
    let flags = MAP_FIXED_NOREPLACE | (op.map === 'shared' ? MAP_SHARED : op.map === 'shared_validate' ? MAP_SHARED_VALIDATE : MAP_PRIVATE);
    if (op.populate) flags |= MAP_POPULATE;
    if (op.backing === 'anon') {
      flags |= MAP_ANONYMOUS;
      if (op.hugetlb) flags |= MAP_HUGETLB;
      return syscallResult('mmap', mm.mmap(addressOf(op.page), rangeLength(op.pages), PROT_VALUES[op.prot], flags));
    }
    // A SysV segment (shmget + shmat) is a shmem or hugetlbfs file mapped MAP_SHARED, like a memfd:
    // the parser allows it only shared, read-write and unpopulated, so the memfd path below models it.
    // A file mapping is a fresh memfd of exactly `pages` pages (MFD_HUGETLB for hugetlb), mapped at
    // offset 0; the runner closes its fd after mmap, so the file lives as long as a mapping does.
    const file = kernel.memfdCreate('pagewalk', rangeLength(op.pages), { hugetlb: op.hugetlb === true });
    if (typeof file === 'number') return syscallResult('mmap', file);
    const result = syscallResult('mmap', mm.mmap(addressOf(op.page), rangeLength(op.pages), PROT_VALUES[op.prot], flags, file, 0));
    kernel.closeFile(file);
    return result;
  }),
  munmap: handler<'munmap'>((op, { mm, addressOf }) => syscallResult('munmap', mm.munmap(addressOf(op.page), rangeLength(op.pages)))),
  mprotect: handler<'mprotect'>((op, { mm, addressOf }) =>
    syscallResult('mprotect', mm.mprotect(addressOf(op.page), rangeLength(op.pages), PROT_VALUES[op.prot])),
  ),
  madvise: handler<'madvise'>((op, { mm, addressOf }) =>
    syscallResult('madvise', mm.madvise(addressOf(op.page), rangeLength(op.pages), ADVICE_VALUES[op.advice])),
  ),
  mlock: handler<'mlock'>((op, { mm, addressOf }) => syscallResult('mlock', mm.mlock(addressOf(op.page), rangeLength(op.pages)))),
  munlock: handler<'munlock'>((op, { mm, addressOf }) => syscallResult('munlock', mm.munlock(addressOf(op.page), rangeLength(op.pages)))),
  write: handler<'write'>((op, { mm, addressOf }) => {
    const offset = op.offset ?? 0;
    const length = op.length ?? 1;
    for (let page = op.page; page < op.page + op.pages; page++) {
      for (let i = 0; i < length; i++) {
        const value = mm.access(addressOf(page) + offset + i, AccessKind.Write, op.byte);
        if (value < 0) return { op: 'write', signal: signalOf(value), page: page + Math.floor((offset + i) / PAGE_SIZE) };
      }
    }
    return { op: 'write', ret: 0 };
  }),
  read: handler<'read'>((op, { mm, addressOf }) => {
    const bytes: number[] = [];
    const offset = op.offset ?? 0;
    const length = op.length ?? 1;
    for (let page = op.page; page < op.page + op.pages; page++) {
      for (let i = 0; i < length; i++) {
        const value = mm.access(addressOf(page) + offset + i, AccessKind.Read);
        if (value < 0) return { op: 'read', signal: signalOf(value), page: page + Math.floor((offset + i) / PAGE_SIZE), bytes };
        bytes.push(value);
      }
    }
    return { op: 'read', ret: 0, bytes };
  }),
  clear_soft_dirty: handler<'clear_soft_dirty'>((_op, { mm }) => syscallResult('clear_soft_dirty', mm.clearRefs(CLEAR_REFS_SOFT_DIRTY))),
  mremap: handler<'mremap'>((op, { mm, addressOf, pageOf, arenaPages }) => {
    let flags = 0;
    for (const name of op.flags) flags |= name === 'maymove' ? MREMAP_MAYMOVE : name === 'fixed' ? MREMAP_FIXED : MREMAP_DONTUNMAP;
    const newAddr = op.new_page === undefined ? 0 : addressOf(op.new_page);
    const result = mm.mremap(addressOf(op.page), rangeLength(op.pages), rangeLength(op.new_pages), flags, newAddr);
    if (result < 0) return syscallResult('mremap', result);
    // A new start outside the arena (the kernel chose it) has no page number there.
    const page = pageOf(result);
    return { op: 'mremap', ret: 0, page: page >= 0 && page < arenaPages ? page : null };
  }),
};

/** Ops every simulator build runs (the rest come from feature adapters). */
export const CORE_OP_NAMES = Object.keys(CORE_OP_HANDLERS) as OpName[];
