#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with
// the most self time, and the most total (inclusive) time.
//   node scripts/profile-summary.mjs FILE.cpuprofile [top=25] [--under FUNCTION]
// --under keeps only samples whose stack holds a frame of that function
// (e.g. the timed operation: pagemapScanIoctl, madvise, walkPageRange).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const underAt = args.indexOf('--under');
const under = underAt >= 0 ? args.splice(underAt, 2)[1] : null;
const [file, topArg] = args;
if (!file) {
  process.stderr.write('usage: profile-summary.mjs FILE.cpuprofile [top]\n');
  process.exit(2);
}
process.stdout.on('error', () => process.exit(0));
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const key = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-3).join('/')}:${n.callFrame.lineNumber + 1}`;
const selfBy = new Map();
const totalBy = new Map();
let all = 0;
const hasFrame = (id) => {
  for (let p = id; p !== undefined; p = parent.get(p)) if (byId.get(p).callFrame.functionName === under) return true;
  return false;
};
for (const [id, us] of self) {
  if (under !== null && !hasFrame(id)) continue;
  all += us;
  const n = byId.get(id);
  selfBy.set(key(n), (selfBy.get(key(n)) ?? 0) + us);
  const seen = new Set();
  for (let p = id; p !== undefined; p = parent.get(p)) {
    const k = key(byId.get(p));
    if (seen.has(k)) continue;
    seen.add(k);
    totalBy.set(k, (totalBy.get(k) ?? 0) + us);
  }
}
const pct = (us) => `${((100 * us) / all).toFixed(1).padStart(5)}%`;
const print = (title, m) => {
  process.stdout.write(`${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(us)} ${(us / 1000).toFixed(1).padStart(9)} ms  ${k}\n`);
};
process.stdout.write(`total sampled ${(all / 1000).toFixed(1)} ms${under ? ` under ${under}` : ''}\n`);
print('self time:', selfBy);
print('total time:', totalBy);
