import { readFileSync } from 'node:fs';
import { parseScenarioValue } from '@pagewalk/scenario';
import { describe, expect, it } from 'vitest';
import * as session from './session.js';
import * as index from './index.js';

describe('@pagewalk/scenario-runner/session', () => {
  it('exports the session API of the main entry, without the corpus loader', () => {
    for (const name of Object.keys(session)) expect((index as Record<string, unknown>)[name]).toBe((session as Record<string, unknown>)[name]);
    expect(Object.keys(session)).not.toContain('loadCorpus');
    const scenario = parseScenarioValue({ name: 's', arena_pages: 4, ops: [{ op: 'mmap', page: 0, pages: 4, prot: 'rw' }] }, 's.json');
    expect(session.runScenario(scenario).results).toEqual([{ op: 'mmap', ret: 0 }]);
  });

  it('imports nothing from node: (it is bundled for the browser)', () => {
    for (const file of ['session.ts', 'scenario-session.ts', 'core-op-handlers.ts', 'feature-module.ts', 'capabilities.ts']) {
      expect(readFileSync(new URL(file, import.meta.url), 'utf8')).not.toMatch(/from 'node:/);
    }
  });
});
