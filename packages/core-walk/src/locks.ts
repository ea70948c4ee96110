/**
 * The mmap lock and per-VMA locks of one mm, as state the walker and the
 * invariant checker can assert on. The simulator is single-threaded, so a
 * lock never blocks: taking a lock in a conflicting state is a bug and
 * throws MmLockError.
 */
import type { Vma } from './vma.js';

export class MmLockError extends Error {
  override readonly name = 'MmLockError';
}

export class MmapLock {
  readers = 0;
  writer = false;
  /** VMAs write-locked (vma_start_write) since the mmap write lock was taken. */
  readonly vmaWriteLocked = new Set<Vma>();
  /** VMAs read-locked through the per-VMA lock (lock_vma_under_rcu). */
  readonly vmaReadLocked = new Set<Vma>();
  /** Page-table locks currently held. */
  ptlHeld = 0;

  get held(): boolean {
    return this.writer || this.readers > 0;
  }

  readLock(): void {
    if (this.writer) throw new MmLockError('mmap_read_lock while the mmap lock is held for write');
    this.readers++;
  }

  readUnlock(): void {
    if (this.readers === 0) throw new MmLockError('mmap_read_unlock without the read lock');
    this.readers--;
  }

  writeLock(): void {
    if (this.held) throw new MmLockError('mmap_write_lock while the mmap lock is held');
    this.writer = true;
  }

  /**
   * mmap_write_lock for a system call: false (nothing taken) when this mm's
   * lock is already held — a system call made from inside a walk callback
   * or a fault handler on the same mm, which the kernel would deadlock on.
   * The caller returns -EDEADLK.
   */
  tryWriteLock(): boolean {
    if (this.held) return false;
    this.writer = true;
    return true;
  }

  /** mmap_read_lock for a system call: false when the lock is held for write. */
  tryReadLock(): boolean {
    if (this.writer) return false;
    this.readers++;
    return true;
  }

  writeUnlock(): void {
    if (!this.writer) throw new MmLockError('mmap_write_unlock without the write lock');
    this.writer = false;
    this.vmaWriteLocked.clear();
  }

  vmaStartWrite(vma: Vma): void {
    if (!this.writer) throw new MmLockError('vma_start_write without the mmap write lock');
    this.vmaWriteLocked.add(vma);
  }

  /** True when nothing is held: checked after every operation. */
  get idle(): boolean {
    return !this.held && this.ptlHeld === 0 && this.vmaReadLocked.size === 0 && this.vmaWriteLocked.size === 0;
  }
}
