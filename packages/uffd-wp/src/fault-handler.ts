/**
 * The core's userfault hook (fs/userfaultfd.c handle_userfault and
 * dup_userfaultfd): what a fault in a registered VMA turns into.
 */
import {
  PAGE_SIZE,
  UserfaultOutcome,
  UserfaultReason,
  VM_UFFD_FLAGS,
  type Mm,
  type UserfaultHandler,
  type Vma,
} from '@pagewalk/core-walk';
import {
  UFFD_EVENT_FORK,
  UFFD_EVENT_PAGEFAULT,
  UFFD_FEATURE_EVENT_FORK,
  UFFD_FEATURE_EXACT_ADDRESS,
  UFFD_FEATURE_SIGBUS,
  UFFD_FEATURE_THREAD_ID,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_PAGEFAULT_FLAG_MINOR,
  UFFD_PAGEFAULT_FLAG_WP,
  UFFD_PAGEFAULT_FLAG_WRITE,
} from './uapi.js';
import { UserfaultfdCtx } from './userfaultfd-ctx.js';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { writableVma } = claimMmInternal();

/** The flags word of a fault message. */
export function pagefaultFlags(reason: UserfaultReason, write: boolean): number {
  let flags = write ? UFFD_PAGEFAULT_FLAG_WRITE : 0;
  if (reason === UserfaultReason.Wp) flags |= UFFD_PAGEFAULT_FLAG_WP;
  else if (reason === UserfaultReason.Minor) flags |= UFFD_PAGEFAULT_FLAG_MINOR;
  return flags;
}

/** The child contexts made during one fork, per parent context (dup_userfaultfd's fctx list). */
const forkContexts = new WeakMap<Mm, Map<UserfaultfdCtx, UserfaultfdCtx>>();

export const userfaultHandler: UserfaultHandler = {
  handleUserfault(mm: Mm, vma: Vma, addr: number, reason: UserfaultReason, write: boolean): UserfaultOutcome {
    const ctx = vma.userfaultfdCtx;
    if (!(ctx instanceof UserfaultfdCtx)) return UserfaultOutcome.Sigbus;
    // WP_ASYNC: the write proceeds after the bit is cleared in place; no message.
    if (reason === UserfaultReason.Wp && (ctx.features & UFFD_FEATURE_WP_ASYNC) !== 0) {
      ctx.stats.asyncResolved++;
      return UserfaultOutcome.AsyncResolve;
    }
    if (ctx.isReleased) return UserfaultOutcome.Retry;
    if ((ctx.features & UFFD_FEATURE_SIGBUS) !== 0) return UserfaultOutcome.Sigbus;
    const address = (ctx.features & UFFD_FEATURE_EXACT_ADDRESS) !== 0 ? addr : addr - (addr % PAGE_SIZE);
    const resolved = ctx.waitForResolution({
      event: UFFD_EVENT_PAGEFAULT,
      flags: pagefaultFlags(reason, write),
      address,
      ptid: (ctx.features & UFFD_FEATURE_THREAD_ID) !== 0 ? mm.id : 0,
    });
    return resolved ? UserfaultOutcome.Retry : UserfaultOutcome.Sigbus;
  },

  forkVma(parent: Mm, child: Mm, parentVma: Vma, childVma: Vma): void {
    const ctx = parentVma.userfaultfdCtx;
    if (!(ctx instanceof UserfaultfdCtx) || ctx.isReleased) return;
    if ((ctx.features & UFFD_FEATURE_EVENT_FORK) === 0) return;
    let made = forkContexts.get(child);
    if (made === undefined) {
      made = new Map();
      forkContexts.set(child, made);
    }
    let childCtx = made.get(ctx);
    if (childCtx === undefined) {
      childCtx = ctx.forkInto(child);
      made.set(ctx, childCtx);
      ctx.queueEvent({ event: UFFD_EVENT_FORK, ufd: childCtx });
    }
    void parent;
    const copy = writableVma(childVma);
    copy.flags = (copy.flags & ~VM_UFFD_FLAGS) | (parentVma.flags & VM_UFFD_FLAGS);
    copy.userfaultfdCtx = childCtx;
  },
};
