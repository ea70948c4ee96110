/**
 * write() on /proc/pid/clear_refs (fs/proc/task_mmu.c: clear_refs_write).
 * The walks themselves are the core's (Mm.clearRefs): "4" clears soft-dirty
 * bits when the profile has CONFIG_MEM_SOFT_DIRTY and succeeds without
 * doing anything otherwise, as the reference kernel does.
 */
import { Errno, type Mm } from '@pagewalk/core-walk';

/** Writes `text` (a decimal number, e.g. "4\n") to clear_refs; returns the bytes written or -errno. */
export function clearRefs(mm: Mm, text: string | number): number {
  const source = String(text);
  const trimmed = source.trim();
  // kstrtoint: an optional sign, then decimal digits (a trailing newline is fine).
  if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) return -Errno.EINVAL;
  const ret = mm.clearRefs(Number(trimmed));
  return ret < 0 ? ret : source.length;
}
