#!/usr/bin/env node
/**
 * `pnpm bench` entry: node dist/run.js [--quick] [--case N[,M...]] [--no-kernel] [--results FILE|--no-results]
 *   --case takes 1..7 (comparison cases) or `sim` (simulator-only figures).
 */
import { runBench } from './bench.js';

function parse(argv: string[]) {
  const opts: { quick: boolean; cases: string[]; kernel: boolean; results?: string | null } = { quick: false, cases: [], kernel: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-kernel') opts.kernel = false;
    else if (a === '--no-results') opts.results = null;
    else if (a === '--results') opts.results = argv[++i] ?? null;
    else if (a === '--case') opts.cases.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (a.startsWith('--case=')) opts.cases.push(...a.slice(7).split(',').filter(Boolean));
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node dist/run.js [--quick] [--case 1..7|sim[,...]] [--no-kernel] [--results FILE | --no-results]\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown option ${a}\n`);
      process.exit(2);
    }
  }
  const bad = opts.cases.filter((c) => !/^[1-7]$|^sim$/.test(c));
  if (bad.length) {
    process.stderr.write(`bench: unknown case ${bad.join(', ')} (use 1..7 or sim)\n`);
    process.exit(2);
  }
  return opts;
}

const opts = parse(process.argv.slice(2));
runBench(opts).catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
