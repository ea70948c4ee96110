#!/usr/bin/env node
// Generates schema/scenario.schema.json from the ScenarioFile type
// (src/scenario-types.ts), so the schema is never written by hand:
//   node scripts/generate-schema.mjs          write it
//   node scripts/generate-schema.mjs --check  exit 1 when the committed file is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'schema', 'scenario.schema.json');

export function generateSchema() {
  const schema = createGenerator({
    path: join(root, 'src', 'scenario-types.ts'),
    tsconfig: join(root, 'tsconfig.json'),
    type: 'ScenarioFile',
    skipTypeCheck: true,
    additionalProperties: false,
  }).createSchema('ScenarioFile');
  schema.title = 'pagewalk scenario';
  schema.description = 'A pagewalk scenario file (docs/SCENARIO.md). Generated from the ScenarioFile type of @pagewalk/scenario.';
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = generateSchema();
  if (process.argv.includes('--check')) {
    if (readFileSync(out, 'utf8') !== text) {
      console.error('schema/scenario.schema.json is stale: run node packages/scenario/scripts/generate-schema.mjs');
      process.exit(1);
    }
  } else writeFileSync(out, text);
}
