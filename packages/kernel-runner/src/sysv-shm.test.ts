import { describe, expect, it } from 'vitest';
import { translateScenario } from './index.js';

describe('mmap backing "sysv_shm"', () => {
  it('reaches the C runner as backing=sysv_shm', () => {
    const t = translateScenario({
      name: 's',
      arena_pages: 1024,
      ops: [{ op: 'mmap', page: 512, pages: 512, prot: 'rw', map: 'shared', backing: 'sysv_shm', hugetlb: true }],
    });
    expect(t).toMatchObject({ lines: 'arena 1024\nmmap page=512 pages=512 prot=rw map=shared backing=sysv_shm populate=0 hugetlb=1\n' });
  });
});
