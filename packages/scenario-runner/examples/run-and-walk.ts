// Set up a process with a scenario, then walk its page tables with your own
// walker: here, count the present PTEs of the arena's first 16 pages.
import { ptePresent, walkPageRange } from '@pagewalk/core-walk';
import { parseScenarioValue } from '@pagewalk/scenario';
import { runScenario } from '@pagewalk/scenario-runner';

export function runAndWalkExample(): { results: unknown[]; present: number } {
  const scenario = parseScenarioValue(
    {
      name: 'three-written-pages',
      arena_pages: 16,
      ops: [
        { op: 'mmap', page: 0, pages: 16, prot: 'rw' },
        { op: 'write', page: 4, pages: 3, byte: 42 },
        { op: 'read', page: 4, pages: 1 },
      ],
    },
    'example.json',
  );
  const { results, mm, arenaBase } = runScenario(scenario);
  let present = 0;
  walkPageRange(mm, arenaBase, arenaBase + 16 * 4096, {
    pteEntry(entry) {
      if (ptePresent(entry)) present++;
      return 0;
    },
  });
  return { results, present };
}
