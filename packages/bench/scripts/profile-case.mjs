#!/usr/bin/env node
// Runs one comparison case's simulator operation many times, so that a
// `node --cpu-prof` profile is dominated by the operation, not the setup.
//   node --cpu-prof --cpu-prof-dir=/tmp/prof scripts/profile-case.mjs <case-id> [iterations=50] [--quick]
// then: node scripts/profile-summary.mjs /tmp/prof/*.cpuprofile
import { CASES, loadFeature } from '../dist/index.js';

const [id, itArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const quick = process.argv.includes('--quick');
const def = CASES.find((c) => c.id === id || c.id.startsWith(`${id}-`));
if (!def) {
  process.stderr.write(`unknown case ${id}; one of ${CASES.map((c) => c.id).join(' ')}\n`);
  process.exit(2);
}
const iterations = Number(itArg ?? 50);
const mods = {};
for (const dir of def.needs) {
  const l = await loadFeature(dir);
  if (!l.ok) {
    process.stderr.write(`${l.reason}\n`);
    process.exit(1);
  }
  mods[dir] = l.mod;
}
const { pages } = def.sizes(quick);
let inst = def.fresh ? null : def.prepare(pages, mods);
let opNs = 0;
for (let i = 0; i < iterations; i++) {
  if (def.fresh) inst = def.prepare(pages, mods);
  else if (i > 0) inst.reset?.();
  const t0 = process.hrtime.bigint();
  const r = inst.op();
  opNs += Number(process.hrtime.bigint() - t0);
  const problem = r < 0 ? `op returned ${r}` : inst.check(r);
  if (problem) throw new Error(problem);
  if (def.fresh) inst.dispose?.();
}
process.stdout.write(`${def.id}: ${iterations} ops, mean ${(opNs / iterations / 1e6).toFixed(3)} ms\n`);
