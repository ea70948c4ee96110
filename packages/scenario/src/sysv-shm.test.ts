import { describe, expect, it } from 'vitest';
import { ScenarioError, parseScenario } from './index.js';

const parse = (mmap: Record<string, unknown>) =>
  parseScenario(JSON.stringify({ name: 'sysv', arena_pages: 1024, ops: [{ op: 'mmap', page: 512, pages: 512, prot: 'rw', ...mmap }] }), 'sysv.json');

describe('mmap backing "sysv_shm"', () => {
  it('is accepted as a shared, read-write, unpopulated attach', () => {
    expect(parse({ map: 'shared', backing: 'sysv_shm', hugetlb: true }).ops[0]).toMatchObject({ backing: 'sysv_shm', map: 'shared', hugetlb: true });
  });

  it.each([
    [{ backing: 'sysv_shm' }, 'field "map": must be "shared" with backing "sysv_shm"'],
    [{ map: 'shared', backing: 'sysv_shm', prot: 'r' }, 'field "prot": must be "rw" with backing "sysv_shm"'],
    [{ map: 'shared', backing: 'sysv_shm', populate: true }, 'field "populate": must be false with backing "sysv_shm"'],
  ])('rejects %j', (fields, message) => {
    expect(() => parse(fields)).toThrow(ScenarioError);
    expect(() => parse(fields)).toThrow(message);
  });
});
