/**
 * Which VMAs can carry guard markers (mm/madvise.c is_valid_guard_vma).
 */
import { VM_HUGETLB, VM_LOCKED, VM_SPECIAL, type Vma } from '@pagewalk/core-walk';

/**
 * Guards live in PTEs only: VM_SPECIAL mappings (IO, DONTEXPAND, PFNMAP,
 * MIXEDMAP) and hugetlb are refused; installing also refuses mlocked VMAs
 * (it would have to zap locked pages), removing does not.
 */
export function isValidGuardVma(vma: Vma, allowLocked: boolean): boolean {
  const disallowed = VM_SPECIAL | VM_HUGETLB | (allowLocked ? 0 : VM_LOCKED);
  return (vma.flags & disallowed) === 0;
}
