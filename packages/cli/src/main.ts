// The pagewalk command line. main() never throws: a user error is one line
// `pagewalk: <message>` with a non-zero exit status, and an internal bug is
// one line too, marked "(internal error)", with exit status 2.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve as resolvePath } from 'node:path';
import { ADVICE_NAMES, DEVICE_OP_NAMES, ScenarioError, canonicalResult, canonicalResults, skipReason, type OpName, type Scenario } from '@pagewalk/scenario';
import { coreAdviceNames, createScenarioSession, featureAdvice, runScenario, simulatorSkipReason, type ScenarioFeature } from '@pagewalk/scenario-runner';
import { CliError, UsageError } from './cli-error.js';
import { checkScenario, formatDifference, type SimulateScenario } from './conformance.js';
import { formatDemo, runDemo } from './demo.js';
import { explore } from './explore.js';
import { parseTraceKinds, runTraced } from './trace-run.js';
import { loadScenarioFeatures } from './feature-loader.js';
import { runFuzz } from './fuzz.js';
import { COMMAND_HELP, MAIN_HELP } from './help-text.js';
import { loadKernelExecutor, type KernelExecutor } from './kernel-executor.js';
import { integerOption, parseArguments, stringOption, type OptionSpec, type ParsedArguments } from './parse-arguments.js';
import { findParityTables, formatParitySummary, summarizeParity } from './parity.js';
import { createProgress } from './progress.js';
import { readScenarioFiles } from './scenario-files.js';
import { formatReproduction, loadSoakFeatures, runSoak, type SoakFeatures } from './soak.js';

/** The CLI package's version (package.json sits beside src/ and dist/). */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stdout is a terminal (progress bars instead of progress lines). */
  isTty: boolean;
  /**
   * Resolves once what stdout has buffered is written out (a pipe whose
   * reader is slower than the simulator); `run` waits for it between
   * pieces, so its memory stays bounded. Optional: absent means no buffer.
   */
  drain?(): Promise<void>;
}

/** What main() runs against; tests inject fakes. */
export interface CliDependencies {
  /** Feature adapters; loaded from the installed feature packages by default. */
  features?: readonly ScenarioFeature[];
  /** The real-kernel executor; @pagewalk/kernel-runner by default. */
  kernel?: KernelExecutor;
  /** What `pagewalk soak` drives; the installed feature packages by default. */
  soakFeatures?: SoakFeatures;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTty: process.stdout.isTTY === true,
  drain: () =>
    process.stdout.writableNeedDrain
      ? new Promise<void>((resolve) => {
          const done = () => {
            process.stdout.off('drain', done);
            process.stdout.off('error', done);
            process.stdout.off('close', done);
            resolve();
          };
          process.stdout.on('drain', done);
          process.stdout.on('error', done);
          process.stdout.on('close', done);
        })
      : Promise.resolve(),
};

interface CommandContext {
  io: CliIo;
  soakFeatures(): Promise<SoakFeatures>;
  features(): Promise<readonly ScenarioFeature[]>;
  kernel(): Promise<KernelExecutor>;
}

type Command = (parsed: ParsedArguments, context: CommandContext) => Promise<number>;

function simulatorFor(features: readonly ScenarioFeature[]): SimulateScenario {
  return (scenario) => runScenario(scenario, { features }).results;
}

function requireFiles(parsed: ParsedArguments, command: string, what: string): string[] {
  if (parsed.positionals.length === 0) throw new UsageError(`"pagewalk ${command}" needs at least one ${what} (see pagewalk ${command} --help)`);
  return parsed.positionals;
}

function requireNoPositionals(parsed: ParsedArguments, command: string): void {
  const [first] = parsed.positionals;
  if (first !== undefined) throw new UsageError(`"pagewalk ${command}" takes no arguments, got "${first}"`);
}

async function requireKernel(context: CommandContext): Promise<KernelExecutor> {
  const kernel = await context.kernel();
  const support = kernel.support();
  if (!support.available) throw new CliError(`the real kernel cannot run scenarios here: ${support.reason ?? 'no reason given'}`);
  return kernel;
}

/** Exit status 1 with a one-line note when scenarios were skipped for an unknown profile key (a typo must not pass silently). */
function unknownKeySkips(skipped: readonly string[], parsed: ParsedArguments, io: CliIo): number {
  if (skipped.length === 0 || parsed.options.has('allow-skips')) return 0;
  io.stderr(`pagewalk: ${skipped.length} scenario${skipped.length > 1 ? 's' : ''} skipped for an unknown profile key (${skipped.join(', ')}); pass --allow-skips to accept\n`);
  return 1;
}

/** Output is written in pieces of about this many characters. */
const RUN_OUTPUT_CHUNK = 1 << 16;

/**
 * Writes `{"name":…,"results":[…]}` for one scenario while its ops run:
 * each result is serialised as soon as its op returns and then dropped,
 * and every 64 KiB written waits for stdout to drain, so memory does not
 * grow with the number of ops (the line is the same JSON as one
 * JSON.stringify of the whole result list).
 */
async function streamScenarioResults(scenario: Scenario, features: readonly ScenarioFeature[], io: CliIo): Promise<void> {
  const session = createScenarioSession(scenario, { features });
  let pending = `{"name":${JSON.stringify(scenario.name)},"results":[`;
  let first = true;
  for (const op of scenario.ops) {
    const result = canonicalResult(session.execute(op));
    pending += (first ? '' : ',') + JSON.stringify(result);
    first = false;
    if (pending.length >= RUN_OUTPUT_CHUNK) {
      io.stdout(pending);
      pending = '';
      // Let a slow reader catch up: what stdout buffers stays bounded.
      if (io.drain !== undefined) await io.drain();
    }
  }
  io.stdout(`${pending}]}\n`);
  if (io.drain !== undefined) await io.drain();
}

const runCommand: Command = async (parsed, context) => {
  const paths = requireFiles(parsed, 'run', 'scenario file');
  // Features first: read after a scenario from a pipe or FIFO, the feature
  // packages' dynamic import resolved tsyringe through unresolved symlinks
  // and failed ("Cannot find module 'tslib'"); loaded before, it does not.
  const features = await context.features();
  const files = readScenarioFiles(paths, { allowDirectories: false });
  // --trace=walk,fault: only those kinds of events.
  const traceList = parsed.options.get('trace');
  const traceKinds = typeof traceList === 'string' ? parseTraceKinds(traceList) : null;
  if (typeof traceKinds === 'string') throw new UsageError(traceKinds);
  const unknownKeys: string[] = [];
  for (const { path, scenario } of files) {
    const unknown = skipReason(scenario);
    if (unknown !== null) unknownKeys.push(path);
    const reason = unknown ?? simulatorSkipReason(scenario);
    if (reason !== null) context.io.stdout(`${JSON.stringify({ name: scenario.name, skipped: reason })}\n`);
    else if (parsed.options.has('trace')) {
      // --trace: the walks' events as JSON lines first, then the results line (kept whole).
      const results = runTraced(scenario, features, context.io.stdout, traceKinds);
      context.io.stdout(`${JSON.stringify({ name: scenario.name, results: canonicalResults(results) })}\n`);
    } else await streamScenarioResults(scenario, features, context.io);
  }
  return unknownKeySkips(unknownKeys, parsed, context.io);
};

const demoCommand: Command = async (parsed, context) => {
  requireNoPositionals(parsed, 'demo');
  const steps = runDemo(await context.features());
  context.io.stdout(parsed.options.has('json') ? `${JSON.stringify({ demo: steps })}\n` : formatDemo(steps));
  return 0;
};

const conformCommand: Command = async (parsed, context) => {
  const paths = requireFiles(parsed, 'conform', 'scenario file or directory');
  await context.features(); // before reading: see runCommand
  const files = readScenarioFiles(paths, { allowDirectories: true });
  if (files.length === 0) throw new CliError(`no scenario files found under ${parsed.positionals.join(' ')}`);
  const needsKernel = files.some(({ scenario }) => skipReason(scenario) === null && !scenario.ops.some((op) => (DEVICE_OP_NAMES as readonly string[]).includes(op.op)));
  const kernel = needsKernel ? await requireKernel(context) : await context.kernel();
  const simulate = simulatorFor(await context.features());
  const { io } = context;
  let matches = 0;
  let unexpected = 0;
  const skipped: string[] = [];
  const knownFailing: string[] = [];
  const matched = new Map<string, boolean>();
  for (const { path, scenario } of files) {
    let outcome: Awaited<ReturnType<typeof checkScenario>>;
    try {
      outcome = await checkScenario(scenario, simulate, kernel);
    } catch (error) {
      if (error instanceof CliError) throw new CliError(`${path}: ${error.message}`, error.exitCode);
      throw error;
    }
    const known = scenario.known_failing;
    matched.set(resolvePath(path), outcome.status === 'match');
    switch (outcome.status) {
      case 'skipped':
        skipped.push(`${path}: ${outcome.reason}`);
        io.stdout(`SKIP   ${path}: ${outcome.reason}\n`);
        break;
      case 'match':
        matches++;
        io.stdout(`ok     ${path}${outcome.against === 'expectations' ? ' (device ops: checked against "expect")' : ''}${known === undefined ? '' : ` (marked known_failing but matches: "${known}")`}\n`);
        break;
      case 'mismatch': {
        const lines = formatDifference(outcome.difference).map((line) => `       ${line}\n`).join('');
        if (known !== undefined) {
          knownFailing.push(`${path}: ${known}`);
          io.stdout(`KNOWN  ${path}: known failing: ${known}\n${lines}`);
        } else {
          unexpected++;
          io.stdout(`FAIL   ${path}\n${lines}`);
        }
        break;
      }
    }
  }
  io.stdout('\n');
  if (skipped.length > 0) io.stdout(`skipped (${skipped.length}, not counted as matches):\n${skipped.map((line) => `  ${line}\n`).join('')}`);
  if (knownFailing.length > 0) io.stdout(`known failing (${knownFailing.length}):\n${knownFailing.map((line) => `  ${line}\n`).join('')}`);
  io.stdout(`conformance: ${matches}/${files.length} scenarios match the kernel\n`);
  // A whole corpus (a directory named corpus): check the self-test parity
  // tables beside it against this run.
  let parityProblems = 0;
  for (const positional of parsed.positionals) {
    const dir = resolvePath(positional);
    if (basename(dir) !== 'corpus') continue;
    for (const table of findParityTables(dir)) {
      const summary = summarizeParity(table, matched);
      io.stdout(`${formatParitySummary(summary)}\n`);
      for (const problem of summary.problems) io.stdout(`  ${problem}\n`);
      parityProblems += summary.problems.length;
    }
  }
  if (unexpected > 0 || parityProblems > 0) return 1;
  return unknownKeySkips(
    files.filter(({ scenario }) => skipReason(scenario) !== null).map(({ path }) => path),
    parsed,
    io,
  );
};

const fuzzCommand: Command = async (parsed, context) => {
  requireNoPositionals(parsed, 'fuzz');
  const count = integerOption(parsed, 'count', 100, 1, 1_000_000);
  const seed = integerOption(parsed, 'seed', Date.now() % 2 ** 31, -(2 ** 31), 2 ** 31 - 1);
  const outDirectory = stringOption(parsed, 'out') ?? 'fuzz-failures';
  const profiles = parsed.options.has('profiles');
  const kernel = await requireKernel(context);
  const features = await context.features();
  const probe = createScenarioSession({ arena_pages: 1 }, { features });
  const ops = (['mmap', 'munmap', 'mprotect', 'madvise', 'mlock', 'munlock', 'write', 'read', 'clear_soft_dirty', 'scan', 'pagemap', 'uffd_open', 'uffd_register', 'uffd_unregister', 'uffd_wp', 'mremap'] as OpName[]).filter(
    (name) => probe.supports(name),
  );
  // Advice a feature adds is EINVAL without it by design (a kernel without it); fuzz it only when modelled.
  const advice = ADVICE_NAMES.filter((name) => coreAdviceNames().has(name) || featureAdvice(features).includes(name));
  const { io } = context;
  io.stdout(`fuzz: ${count} scenarios, seed ${seed}${profiles ? ', with profiles (THP mode, huge zero page, swap file or zram, hugetlb pages)' : ''}, ops: ${ops.join(' ')}\n`);
  const progress = createProgress(io.stdout, io.isTty);
  let shrinkAnnounced = false;
  const report = await runFuzz({
    count,
    seed,
    ops,
    advice,
    profiles,
    simulate: simulatorFor(features),
    kernel,
    onProgress: ({ phase, done, total }) => {
      if (phase === 'shrink' && !shrinkAnnounced) {
        shrinkAnnounced = true;
        progress.note('fuzz: mismatch found, shrinking it');
      }
      progress.update(done, total, phase === 'search' ? 'fuzz' : 'shrink (candidates tried)');
    },
  });
  progress.finish();
  if (report.mismatch === null) {
    io.stdout(`fuzz: ${report.runs} scenarios, no mismatch${report.skipped > 0 ? ` (${report.skipped} skipped by the kernel runner)` : ''}\n`);
    return 0;
  }
  const { mismatch } = report;
  const scenario: Scenario = { ...mismatch.scenario, name: `fuzz-seed-${seed}` };
  mkdirSync(outDirectory, { recursive: true });
  const file = join(outDirectory, `fuzz-seed-${seed}.json`);
  writeFileSync(file, `${JSON.stringify(scenario, null, 2)}\n`);
  const difference = formatDifference({
    ...mismatch.difference,
    op: scenario.ops[mismatch.difference.opIndex],
    reference: 'kernel',
    referenceResult: mismatch.kernelResults[mismatch.difference.opIndex],
    simulatorResult: mismatch.simulatorResults[mismatch.difference.opIndex],
  });
  io.stdout(`fuzz: mismatch after ${report.runs} scenarios, shrunk in ${report.shrinks} steps to ${scenario.ops.length} ops: ${file}\n${difference.map((line) => `  ${line}\n`).join('')}`);
  return 1;
};

const exploreCommand: Command = async (parsed, context) => {
  const [file, extra] = parsed.positionals;
  if (extra !== undefined) throw new UsageError(`"pagewalk explore" takes at most one scenario file, got "${extra}"`);
  const out = stringOption(parsed, 'out');
  const port = parsed.options.has('port') ? integerOption(parsed, 'port', 0, 0, 65535) : undefined;
  return explore({ file, out, port, stdout: context.io.stdout });
};

const kernelProfileCommand: Command = async (parsed, context) => {
  requireNoPositionals(parsed, 'kernel-profile');
  const kernel = await context.kernel();
  const support = kernel.support();
  const { io } = context;
  if (!support.available || kernel.profile === undefined) {
    if (parsed.options.has('json')) io.stdout(`${JSON.stringify({ available: false, reason: support.reason ?? 'no kernel runner' })}\n`);
    else io.stdout(`kernel runner: unavailable (${support.reason ?? 'no kernel runner'})\n`);
    return parsed.options.has('json') ? 0 : 1;
  }
  const profile = kernel.profile();
  if (parsed.options.has('json')) {
    io.stdout(`${JSON.stringify({ available: true, profile })}\n`);
    return 0;
  }
  const mthp = Object.entries(profile.mthp).map(([size, mode]) => `${size}=${mode}`).join(' ');
  const rows: [string, string][] = [
    ['kernel', profile.kernel],
    ['zero page', profile.zero_page ? 'on (anonymous read faults map the shared zero page)' : 'off (anonymous read faults allocate pages)'],
    ['THP', `${profile.thp}, huge zero page ${profile.thp_zero_page ? 'on' : 'off'}`],
    ['mTHP', mthp === '' ? '(none offered)' : mthp],
    ['soft-dirty', profile.soft_dirty ? 'CONFIG_MEM_SOFT_DIRTY=y' : 'not configured'],
    ['swap', profile.swap === false ? 'none' : profile.swap],
    ['hugetlb', `${profile.hugetlb_pages} free 2 MiB pages`],
    ['userfaultfd', profile.userfaultfd ? 'usable (WP_ASYNC)' : 'not usable by this user'],
    ['root', profile.root ? 'yes (THP, mTHP, swap and hugetlb can be switched per scenario)' : 'no (profiles are checked, not switched)'],
  ];
  io.stdout(rows.map(([key, value]) => `${key.padEnd(12)} ${value}\n`).join(''));
  return 0;
};

const soakCommand: Command = async (parsed, context) => {
  requireNoPositionals(parsed, 'soak');
  const ops = integerOption(parsed, 'ops', 100_000, 1, 1_000_000_000);
  const seed = integerOption(parsed, 'seed', Date.now() % 2 ** 31, 0, 2 ** 32 - 1);
  const features = await context.soakFeatures();
  const { io } = context;
  const installed = [features.guardPages && 'guard-pages', features.uffd && 'uffd-wp', features.hmm && 'hmm-migrate'].filter(Boolean);
  io.stdout(`soak: ${ops} ops, seed ${seed}, features: core${installed.map((name) => ` ${name}`).join('')}\n`);
  const progress = createProgress(io.stdout, io.isTty);
  const report = runSoak({ ops, seed, features, onProgress: (done, total) => progress.update(done, total, 'soak') });
  progress.finish();
  const rate = report.seconds > 0 ? Math.round(report.ops / report.seconds) : report.ops;
  if (parsed.options.has('json')) {
    io.stdout(`${JSON.stringify({ ops: report.ops, seconds: Number(report.seconds.toFixed(3)), opsPerSecond: rate, seed, violations: report.violations, failure: report.failure })}\n`);
  }
  if (report.failure === null) {
    io.stdout(`soak: ${report.ops} ops in ${report.episodes} episodes, ${report.seconds.toFixed(1)} s (${rate} ops/s), 0 violations\n`);
    return 0;
  }
  const { failure } = report;
  io.stdout(
    `soak: VIOLATION after ${report.ops} ops (episode ${failure.episode}, op ${failure.opIndex}): ${failure.message}\n` +
      `soak: shrunk to ${failure.reproduction.ops.length} ops (${failure.shrunkMessage}); replay with the core-walk API:\n` +
      formatReproduction(failure.reproduction)
        .split('\n')
        .map((line) => `  ${line}\n`)
        .join(''),
  );
  return 1;
};

const COMMANDS: Record<string, { run: Command; options: Record<string, OptionSpec> }> = {
  run: { run: runCommand, options: { 'allow-skips': {}, trace: { optionalValue: true } } },
  demo: { run: demoCommand, options: { json: {} } },
  conform: { run: conformCommand, options: { 'allow-skips': {} } },
  'kernel-profile': { run: kernelProfileCommand, options: { json: {} } },
  fuzz: { run: fuzzCommand, options: { count: { value: true }, seed: { value: true }, out: { value: true }, profiles: {} } },
  soak: { run: soakCommand, options: { ops: { value: true }, seed: { value: true }, json: {} } },
  explore: { run: exploreCommand, options: { out: { value: true }, port: { value: true } } },
};

function helpFor(name: string | undefined): string {
  if (name === undefined) return MAIN_HELP;
  const text = COMMAND_HELP[name];
  if (text === undefined) throw new UsageError(`unknown command "${name}" (see pagewalk --help)`);
  return text;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? '';
}

/** Runs the CLI with these arguments (without `node` and the script); resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo, dependencies: CliDependencies = {}): Promise<number> {
  let featuresPromise: Promise<readonly ScenarioFeature[]> | undefined;
  let kernelPromise: Promise<KernelExecutor> | undefined;
  const context: CommandContext = {
    io,
    features: () => (featuresPromise ??= dependencies.features !== undefined ? Promise.resolve(dependencies.features) : loadScenarioFeatures()),
    kernel: () => (kernelPromise ??= dependencies.kernel !== undefined ? Promise.resolve(dependencies.kernel) : loadKernelExecutor()),
    soakFeatures: () => (dependencies.soakFeatures !== undefined ? Promise.resolve(dependencies.soakFeatures) : loadSoakFeatures()),
  };
  try {
    const [name, ...rest] = argv;
    if (name === undefined) throw new UsageError('missing command (see pagewalk --help)');
    if (name === '--version' || name === '-V') {
      if (rest.length > 0) throw new UsageError(`"pagewalk --version" takes no arguments`);
      io.stdout(`pagewalk ${CLI_VERSION}\n`);
      return 0;
    }
    if (name === '--help' || name === '-h') {
      io.stdout(MAIN_HELP);
      return 0;
    }
    if (name === 'help') {
      if (rest.length > 1) throw new UsageError('"pagewalk help" takes at most one command name');
      io.stdout(helpFor(rest[0]));
      return 0;
    }
    const command = COMMANDS[name];
    if (command === undefined) {
      throw new UsageError(name.startsWith('-') ? `unknown option "${name}" (see pagewalk --help)` : `unknown command "${name}" (see pagewalk --help)`);
    }
    const parsed = parseArguments(name, rest, command.options);
    if (parsed.options.has('help')) {
      io.stdout(helpFor(name));
      return 0;
    }
    return await command.run(parsed, context);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`pagewalk: ${firstLine(error)}\n`);
      return error.exitCode;
    }
    if (error instanceof ScenarioError) {
      io.stderr(`pagewalk: ${firstLine(error)}\n`);
      return 1;
    }
    io.stderr(`pagewalk: ${firstLine(error)} (internal error)\n`);
    return 2;
  }
}
