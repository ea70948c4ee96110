#!/usr/bin/env node
// Points every corpus scenario at the scenario JSON Schema (a "$schema" first
// line, relative to the file), so editors complete and check them. Safe to
// run repeatedly; new scenarios get it the same way.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = join(root, 'packages', 'scenario', 'schema', 'scenario.schema.json');

function scenarioFiles(directory) {
  return readdirSync(directory).sort().flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return scenarioFiles(path);
    return name.endsWith('.json') && !name.endsWith('.kernel.json') ? [path] : [];
  });
}

let changed = 0;
for (const file of scenarioFiles(join(root, 'corpus'))) {
  const text = readFileSync(file, 'utf8');
  const want = relative(dirname(file), schema);
  const value = JSON.parse(text);
  if (value.$schema === want) continue;
  let next;
  if (value.$schema !== undefined) next = text.replace(/"\$schema":\s*"[^"]*"/, `"$schema": ${JSON.stringify(want)}`);
  else next = text.replace(/^\{\s*\n?(\s*)/, (_m, indent) => `{\n${indent || '  '}"$schema": ${JSON.stringify(want)},\n${indent || '  '}`);
  if (JSON.parse(next).$schema !== want) throw new Error(`${file}: could not add $schema`);
  writeFileSync(file, next);
  changed++;
}
console.log(`corpus-schema: ${changed} scenario files updated`);
