// Differential fuzzing: fast-check generates scenarios (valid ones and ones
// whose syscalls must fail: empty ranges, overlapping maps, unmapped ranges,
// bad PAGEMAP_SCAN arguments), runs each on the simulator and on the kernel,
// and shrinks the first mismatch to a minimal scenario.
import fc from 'fast-check';
import {
  ADVICE_NAMES,
  CATEGORY_NAMES,
  PROT_NAMES,
  SCAN_FLAG_NAMES,
  firstDifference,
  scenarioUnderRecording,
  parseScenarioValue,
  type AdviceName,
  type OpName,
  type OpResult,
  type ResultDifference,
  type Scenario,
} from '@pagewalk/scenario';
import { simulatorSkipReason } from '@pagewalk/scenario-runner';
import type { KernelExecutor } from './kernel-executor.js';
import type { SimulateScenario } from './conformance.js';

export interface ScenarioArbitraryOptions {
  /** Ops the generator may use (ops the simulator supports). */
  ops: readonly OpName[];
  /** madvise advice to use; all by default. */
  advice?: readonly AdviceName[];
  minArenaPages?: number;
  maxArenaPages?: number;
  maxOps?: number;
  /**
   * Also draw a kernel profile per scenario: THP mode, huge zero page,
   * swap (none, any, a swap file or zram), a pool of 2 MiB hugetlb pages,
   * any of them or none (the machine's default). The zero page on read
   * faults is the host's (no runner can switch it): the simulator runs under
   * the profile the kernel reports for each run. The kernel runner sets the machine up for each
   * such scenario (as root; otherwise it skips them).
   */
  profiles?: boolean;
}

/** Upper bound of generated page numbers; ranges are clamped into the real arena afterwards. */
const MAX_GENERATED_PAGES = 1024;

/**
 * A page range, mostly near page 0 so ops overlap (clamped into the arena
 * by clampRanges), sometimes a whole 2 MiB-aligned PMD (the arena is 1 GiB
 * aligned) or a range crossing one, so that THP faults, splits, collapses
 * and huge-page scans come up too.
 */
const pageRange = fc.oneof(
  // Shrinking may move a PMD-sized range to the small ranges (the first arbitrary).
  { withCrossShrink: true },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 63 }) }, { weight: 1, arbitrary: fc.nat({ max: MAX_GENERATED_PAGES - 1 }) }),
        fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 16 }) }, { weight: 1, arbitrary: fc.nat({ max: MAX_GENERATED_PAGES }) }),
      )
      .map(([page, pages]) => ({ page, pages })),
  },
  { weight: 1, arbitrary: fc.constantFrom({ page: 0, pages: 512 }, { page: 512, pages: 512 }, { page: 0, pages: 1024 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 448, max: 511 }), fc.integer({ min: 2, max: 128 })).map(([page, pages]) => ({ page, pages })) },
);

const categoryList = fc.oneof(
  { weight: 3, arbitrary: fc.constant([] as string[]) },
  { weight: 1, arbitrary: fc.constant(['all']) },
  { weight: 3, arbitrary: fc.subarray([...CATEGORY_NAMES], { maxLength: 3 }) },
);

/** Raw pm_scan_arg overrides, mostly invalid on purpose. */
const scanRaw = fc.record(
    {
      size: fc.constantFrom(0, 95, 96, 97, 2 ** 63),
      flags: fc.constantFrom(0, 1, 2, 3, 4, 2 ** 62),
      start_byte_offset: fc.constantFrom(0, 1, 4095, -4096, 64 * 4096),
      end_byte_offset: fc.constantFrom(0, 1, 4097, 8192, -1, 64 * 4096),
      return_mask: fc.constantFrom(0, 0x1ff, 0x200, 2 ** 62),
      category_mask: fc.constantFrom(0, 0x1ff, 0x400),
    },
    { requiredKeys: [] },
  );

/**
 * The byte inside each page a read or write touches (scenario format v2):
 * absent (offset 0) half the time, else a page edge or any byte, so a
 * model that only keeps offset 0 right is caught.
 */
const offsetField: fc.Arbitrary<{ offset?: number }> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  { weight: 2, arbitrary: fc.constantFrom(1, 2048, 4095).map((offset) => ({ offset })) },
  { weight: 2, arbitrary: fc.nat({ max: 4095 }).map((offset) => ({ offset })) },
);

function opArbitrary(name: OpName, advice: readonly AdviceName[]): fc.Arbitrary<Record<string, unknown>> {
  const range = pageRange;
  const withRange = (fields: Record<string, fc.Arbitrary<unknown>>) =>
    fc.tuple(range, fc.record(fields)).map(([pageRange, rest]) => ({ op: name, ...pageRange, ...rest }));
  switch (name) {
    case 'mmap':
      return fc
        .tuple(
          withRange({ prot: fc.constantFrom(...PROT_NAMES), map: fc.constantFrom('private', 'shared'), populate: fc.boolean() }),
          // A hugetlbfs memfd is not modelled, so hugetlb goes with anonymous memory only.
          fc.constantFrom({ backing: 'anon', hugetlb: false }, { backing: 'anon', hugetlb: false }, { backing: 'file', hugetlb: false }, { backing: 'anon', hugetlb: true }),
        )
        .map(([op, backing]) => ({ ...op, ...backing }));
    case 'mprotect':
      return withRange({ prot: fc.constantFrom(...PROT_NAMES) });
    case 'madvise':
      return withRange({ advice: fc.constantFrom(...advice) });
    case 'write':
      return fc.tuple(withRange({ byte: fc.nat({ max: 255 }) }), offsetField).map(([op, offset]) => ({ ...op, ...offset }));
    case 'read':
      return fc.tuple(withRange({}), offsetField).map(([op, offset]) => ({ ...op, ...offset }));
    case 'dev_write':
      return withRange({ byte: fc.nat({ max: 255 }) });
    case 'uffd_open':
      return fc.record({ op: fc.constant(name), features: fc.subarray(['wp_async', 'wp_unpopulated']) });
    case 'uffd_register':
      return withRange({ modes: fc.subarray(['wp', 'missing']) });
    case 'uffd_wp':
      return withRange({ wp: fc.boolean() });
    case 'clear_soft_dirty':
      return fc.constant({ op: name });
    case 'mremap':
      return fc
        .tuple(
          range,
          fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 32 }) }, { weight: 1, arbitrary: fc.nat({ max: MAX_GENERATED_PAGES }) }),
          fc.constantFrom<string[]>([], ['maymove'], ['maymove', 'fixed'], ['maymove', 'fixed'], ['maymove', 'dontunmap'], ['maymove', 'fixed', 'dontunmap'], ['fixed']),
          fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 127 }) }, { weight: 1, arbitrary: fc.constantFrom(512, 1024, 1536) }),
        )
        .map(([pageRange, newPages, flags, newPage]) => ({ op: name, ...pageRange, new_pages: newPages, flags, ...(flags.includes('fixed') || flags.includes('dontunmap') ? { new_page: newPage } : {}) }));
    case 'scan':
      return fc
        .tuple(
          range,
          fc.record(
            {
              flags: fc.subarray([...SCAN_FLAG_NAMES]),
              category_mask: categoryList,
              category_anyof_mask: categoryList,
              category_inverted: categoryList,
              return_mask: categoryList,
              max_pages: fc.constantFrom(0, 0, 1, 3),
              vec_len: fc.constantFrom(4096, 4096, 1, 2),
            },
            { requiredKeys: [] },
          ),
          fc.option(scanRaw, { freq: 5, nil: undefined }),
        )
        .map(([pageRange, rest, raw]) => ({ op: name, ...pageRange, ...rest, ...(raw === undefined ? {} : { raw }) }));
    default:
      return withRange({});
  }
}

/**
 * Profiles the fuzzer can ask for: only keys a root runner can set up (THP
 * mode and huge zero page in sysfs, no swap, a swap file or zram, hugetlb
 * pages), each key present or left to the machine's default.
 */
const profileArbitrary: fc.Arbitrary<Record<string, unknown> | undefined> = fc
  .record(
    {
      thp: fc.constantFrom('always', 'madvise', 'never'),
      thp_zero_page: fc.boolean(),
      swap: fc.constantFrom<boolean | 'file' | 'zram'>(true, false, 'file', 'zram'),
      hugetlb_pages: fc.integer({ min: 1, max: 4 }),
    },
    { requiredKeys: [] },
  )
  .map((profile) => (Object.keys(profile).length === 0 ? undefined : profile));

/**
 * An optional start that gives the random ops something to act on: the
 * whole arena mapped read-write (anonymous, or a shared file), sometimes
 * MADV_HUGEPAGE on it, then a few writes — so that later ops meet THPs
 * (the arena is 1 GiB aligned, pages 0..511 are one PMD), pages to swap
 * out, and so on. Ranges are clamped into the arena afterwards.
 */
const prologueArbitrary: fc.Arbitrary<Record<string, unknown>[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Record<string, unknown>[]>([]) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom({ map: 'private', backing: 'anon' }, { map: 'private', backing: 'anon' }, { map: 'shared', backing: 'file' }),
        fc.boolean(),
        fc.array(pageRange, { minLength: 1, maxLength: 3 }),
        fc.nat({ max: 255 }),
      )
      .map(([mapping, hugepage, writes, byte]) => [
        { op: 'mmap', page: 0, pages: MAX_GENERATED_PAGES, prot: 'rw', ...mapping, populate: false, hugetlb: false },
        ...(hugepage ? [{ op: 'madvise', page: 0, pages: MAX_GENERATED_PAGES, advice: 'hugepage' }] : []),
        ...writes.map((range) => ({ op: 'write', ...range, byte })),
      ]),
  },
);

/** Ops and how often to pick them: mostly mappings and accesses, so later ops find something to act on. */
const OP_WEIGHTS: Partial<Record<OpName, number>> = { mmap: 6, write: 5, read: 4, madvise: 4, mprotect: 2, munmap: 2, scan: 3, pagemap: 2 };

/** Scenarios in a small arena (64..1024 pages) with ops from `options.ops`; every one passes parseScenario. */
export function scenarioArbitrary(options: ScenarioArbitraryOptions): fc.Arbitrary<Scenario> {
  const { ops, advice = ADVICE_NAMES, minArenaPages = 64, maxArenaPages = MAX_GENERATED_PAGES, maxOps = 24, profiles = false } = options;
  if (ops.length === 0) throw new Error('scenarioArbitrary needs at least one op');
  // Arena and ops are drawn independently (no chain), so fast-check shrinks both.
  return fc
    .tuple(
      fc.integer({ min: minArenaPages, max: maxArenaPages }),
      fc.array(fc.oneof(...ops.map((name) => ({ weight: OP_WEIGHTS[name] ?? 1, arbitrary: opArbitrary(name, advice) }))), { minLength: 1, maxLength: maxOps }),
      profiles ? profileArbitrary : fc.constant(undefined),
      ops.includes('mmap') && ops.includes('write') ? prologueArbitrary : fc.constant([]),
    )
    .map(([drawnArenaPages, generated, profile, prologue]) => {
      // With a prologue the arena holds at least one whole PMD (512 pages), so THPs can appear.
      const arenaPages = prologue.length > 0 ? Math.max(drawnArenaPages, Math.min(512, maxArenaPages)) : drawnArenaPages;
      // Parsing fills the defaults and field order of a scenario file, so a generated scenario equals its file.
      return parseScenarioValue(
        { name: 'fuzz', arena_pages: arenaPages, ...(profile === undefined ? {} : { profile }), ops: clampRanges([...prologue, ...generated], arenaPages) },
        'generated scenario',
      );
    });
}

/** Moves every range into the arena: page modulo the arena size, pages cut at its end. */
function clampRanges(ops: Record<string, unknown>[], arenaPages: number): Record<string, unknown>[] {
  return ops.map((op) => {
    if (typeof op.page !== 'number' || typeof op.pages !== 'number') return op;
    const page = op.page % arenaPages;
    const clamped = { ...op, page, pages: Math.min(op.pages, arenaPages - page) };
    if (typeof op.new_pages !== 'number') return clamped;
    // mremap: the target range must lie in the arena too.
    const newPage = typeof op.new_page === 'number' ? op.new_page % arenaPages : 0;
    return { ...clamped, ...(op.new_page === undefined ? {} : { new_page: newPage }), new_pages: Math.max(1, Math.min(op.new_pages, arenaPages - newPage)) };
  });
}

export interface FuzzMismatch {
  scenario: Scenario;
  difference: ResultDifference;
  simulatorResults: OpResult[];
  kernelResults: OpResult[];
}

export interface FuzzProgress {
  phase: 'search' | 'shrink';
  /** Scenarios generated so far (search) or shrink candidates tried (shrink). */
  done: number;
  total: number;
}

export interface FuzzOptions {
  count: number;
  seed: number;
  ops: readonly OpName[];
  advice?: readonly AdviceName[];
  /** Draw kernel profiles too (see ScenarioArbitraryOptions.profiles). */
  profiles?: boolean;
  simulate: SimulateScenario;
  kernel: KernelExecutor;
  onProgress?: (progress: FuzzProgress) => void;
}

export interface FuzzReport {
  /** Scenarios compared before the first mismatch (or all of them). */
  runs: number;
  /** Scenarios the kernel runner skipped or the simulator could not run. */
  skipped: number;
  /** Shrink steps that kept the mismatch. */
  shrinks: number;
  mismatch: FuzzMismatch | null;
}

/** Runs `count` random scenarios on both sides; the first mismatch is shrunk to a minimal scenario. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  let shrinking = false;
  let tried = 0;
  let skipped = 0;
  let lastMismatch: FuzzMismatch | null = null;

  const compare = async (scenario: Scenario): Promise<FuzzMismatch | null> => {
    // An op the simulator cannot run (a combination it does not model) makes the scenario incomparable.
    const comparable = options.simulate(scenario).every((result) => result.unsupported !== true);
    const kernelRun = comparable ? await options.kernel.run(scenario) : { skipped: 'unsupported by the simulator' };
    if ('skipped' in kernelRun) {
      if (!shrinking) skipped++;
      return null;
    }
    // The simulator runs under the whole profile the kernel ran under (zero page, swap device, THP modes...).
    const effective = kernelRun.profile === undefined ? scenario : scenarioUnderRecording(scenario, kernelRun.profile);
    if (simulatorSkipReason(effective) !== null) {
      if (!shrinking) skipped++;
      return null;
    }
    const simulatorResults = options.simulate(effective);
    if (simulatorResults.some((result) => result.unsupported === true)) {
      if (!shrinking) skipped++;
      return null;
    }
    const difference = firstDifference(kernelRun.results, simulatorResults);
    return difference === null ? null : { scenario, difference, simulatorResults, kernelResults: kernelRun.results };
  };

  const arbitrary = scenarioArbitrary({
    ops: options.ops,
    profiles: options.profiles ?? false,
    ...(options.advice === undefined ? {} : { advice: options.advice }),
  });
  const property = fc.asyncProperty(arbitrary, async (scenario) => {
    tried++;
    options.onProgress?.({ phase: shrinking ? 'shrink' : 'search', done: tried, total: shrinking ? 0 : options.count });
    const mismatch = await compare(scenario);
    if (mismatch === null) return true;
    if (!shrinking) {
      shrinking = true;
      tried = 0;
    }
    lastMismatch = mismatch;
    return false;
  });

  const details = await fc.check(property, { numRuns: options.count, seed: options.seed, endOnFailure: false });
  let mismatch = details.failed && details.counterexample !== null ? await compare(details.counterexample[0]) : null;
  if (mismatch !== null) {
    // Ops after the first difference cannot change it: drop them (and keep the cut only if it still differs).
    const { scenario, difference } = mismatch;
    if (difference.opIndex + 1 < scenario.ops.length) {
      mismatch = (await compare({ ...scenario, ops: scenario.ops.slice(0, difference.opIndex + 1) })) ?? mismatch;
    }
  }
  return {
    runs: details.numRuns,
    skipped,
    shrinks: details.numShrinks,
    mismatch: mismatch ?? (details.failed ? lastMismatch : null),
  };
}
