import { expect, it } from 'vitest';
import { runAndWalkExample } from '../examples/run-and-walk.js';

it('the README example runs', () => {
  expect(runAndWalkExample()).toEqual({
    results: [
      { op: 'mmap', ret: 0 },
      { op: 'write', ret: 0 },
      { op: 'read', ret: 0, bytes: [42] },
    ],
    present: 3,
  });
});
