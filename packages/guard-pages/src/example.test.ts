import { expect, it } from 'vitest';
import { runAllocatorExample } from '../examples/allocator.js';

it('README example: a guard page between objects catches a stray write', () => {
  expect(runAllocatorExample()).toEqual([
    'wrote a+0',
    'wrote a+4096',
    'stray write at a+8192 caught: SIGSEGV on the guard page',
    'b still holds 0x42',
  ]);
});
