// Integration with the real kernel through @pagewalk/kernel-runner; skipped
// (with the reason in the test name) where the runner or the kernel is not usable.
import { describe, expect, it } from 'vitest';
import { parseScenarioValue } from '@pagewalk/scenario';
import { checkScenario } from './conformance.js';
import { loadKernelExecutor } from './kernel-executor.js';
import { runScenario } from '@pagewalk/scenario-runner';

const kernel = await loadKernelExecutor();
const support = kernel.support();

describe.skipIf(!support.available)(`real kernel${support.available ? '' : ` (skipped: ${support.reason ?? 'unavailable'})`}`, () => {
  it('agrees with the simulator on mapping, writing, reading and a read-only write', async () => {
    const scenario = parseScenarioValue(
      {
        name: 'basic',
        arena_pages: 64,
        ops: [
          { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
          { op: 'write', page: 0, pages: 2, byte: 7 },
          { op: 'read', page: 0, pages: 3 },
          { op: 'mprotect', page: 0, pages: 4, prot: 'r' },
          { op: 'write', page: 1, byte: 1 },
          { op: 'munmap', page: 0, pages: 0 },
        ],
      },
      'basic.json',
    );
    const outcome = await checkScenario(scenario, (s) => runScenario(s).results, kernel);
    expect(outcome).toEqual({ status: 'match', against: 'kernel' });
  });
});
