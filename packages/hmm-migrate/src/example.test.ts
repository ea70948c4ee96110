import { describe, expect, it } from 'vitest';
import { gpuExample } from '../examples/gpu-buffer.js';

describe('README example (examples/gpu-buffer.ts)', () => {
  it('migrates, computes on the device and reads the result back on the CPU', () => {
    expect(gpuExample()).toEqual({ migrated: 4, onDevice: 4, cpuSees: [20, 22, 24, 26], afterFault: 0, problems: [] });
  });
});
