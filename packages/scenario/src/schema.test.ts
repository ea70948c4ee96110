/**
 * The JSON Schema shipped for editors (schema/scenario.schema.json) is
 * generated from the ScenarioFile type, never written by hand: the
 * committed file equals a fresh generation; every corpus scenario is valid
 * under it and references it; and malformed scenarios that break a rule the
 * schema can state are refused by both the schema and the parser.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ScenarioError, parseScenarioValue } from './index.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA_PATH = join(PACKAGE_ROOT, 'schema', 'scenario.schema.json');
const CORPUS = join(PACKAGE_ROOT, '..', '..', 'corpus');
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object;
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

function scenarioFiles(directory: string): string[] {
  return readdirSync(directory)
    .sort()
    .flatMap((name) => {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) return scenarioFiles(path);
      return name.endsWith('.json') && !name.endsWith('.kernel.json') ? [path] : [];
    });
}

describe('the scenario JSON Schema', () => {
  it('is the one generated from the ScenarioFile type', { timeout: 60_000 }, async () => {
    const generator: string = '../scripts/generate-schema.mjs'; // a plain script: imported by path, untyped
    const { generateSchema } = (await import(generator)) as { generateSchema(): string };
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(generateSchema());
  });

  it('accepts every corpus scenario, and every corpus scenario points editors at it', () => {
    const files = scenarioFiles(CORPUS);
    expect(files.length).toBeGreaterThan(200);
    for (const file of files) {
      const value = JSON.parse(readFileSync(file, 'utf8')) as { $schema?: string };
      expect(validate(value), `${relative(CORPUS, file)}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(value.$schema, relative(CORPUS, file)).toBe(relative(dirname(file), SCHEMA_PATH));
    }
  });

  const base = { name: 'x', arena_pages: 16 };
  const malformed: [string, unknown][] = [
    ['missing ops', { ...base }],
    ['unknown top-level field', { ...base, opz: [], ops: [] }],
    ['unknown op', { ...base, ops: [{ op: 'frob' }] }],
    ['unknown field of an op', { ...base, ops: [{ op: 'munmap', page: 0, pages: 1, extra: 1 }] }],
    ['missing required field', { ...base, ops: [{ op: 'mprotect', page: 0, pages: 1 }] }],
    ['bad prot name', { ...base, ops: [{ op: 'mmap', page: 0, pages: 1, prot: 'w' }] }],
    ['bad advice name', { ...base, ops: [{ op: 'madvise', page: 0, pages: 1, advice: 'dontneeed' }] }],
    ['bad category', { ...base, ops: [{ op: 'scan', page: 0, pages: 1, return_mask: ['bogus'] }] }],
    ['string page', { ...base, ops: [{ op: 'read', page: '0' }] }],
    ['bad thp mode', { ...base, profile: { thp: 'sometimes' }, ops: [] }],
    ['bad swap kind', { ...base, profile: { swap: 'nfs' }, ops: [] }],
  ];
  for (const [what, value] of malformed) {
    it(`refuses a scenario with ${what}, as the parser does`, () => {
      expect(validate(value)).toBe(false);
      expect(() => parseScenarioValue(value, 'bad.json')).toThrow(ScenarioError);
    });
  }

  it('gives the defaulted fields as optional and the others as required', () => {
    expect(
      validate({ ...base, ops: [{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }, { op: 'write', page: 0, byte: 1 }, { op: 'scan', page: 0, pages: 1 }] }),
    ).toBe(true);
    expect(validate({ ...base, ops: [{ op: 'write', page: 0 }] })).toBe(false);
  });
});
