// What `pagewalk explore` shows without a scenario file: a little of
// everything the map draws (THP, zero page, guard markers, discarded pages).
export const EXAMPLE_SCENARIO = {
  name: 'explore-example',
  arena_pages: 2048,
  profile: { thp: 'madvise' },
  ops: [
    { op: 'mmap', page: 0, pages: 1536, prot: 'rw' },
    { op: 'madvise', page: 0, pages: 512, advice: 'hugepage' },
    { op: 'write', page: 0, byte: 1 },
    { op: 'write', page: 512, pages: 256, byte: 2 },
    { op: 'read', page: 768, pages: 128 },
    { op: 'madvise', page: 640, pages: 16, advice: 'dontneed' },
    { op: 'madvise', page: 1024, pages: 1, advice: 'guard_install' },
    { op: 'madvise', page: 1100, pages: 4, advice: 'guard_install' },
    { op: 'mprotect', page: 1200, pages: 100, prot: 'r' },
    { op: 'scan', page: 0, pages: 1536, return_mask: ['all'] },
  ],
};
