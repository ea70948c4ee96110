// `pagewalk demo`: a guided tour of the simulated memory manager, one step
// at a time, each op with its result and a line on what happened and why.
// Steps that need a feature package that is not installed are skipped with a
// note, so the demo runs with whatever is implemented.
import { AccessKind } from '@pagewalk/core-walk';
import { parseScenarioValue, type OpName, type OpResult, type ScenarioOp } from '@pagewalk/scenario';
import { createScenarioSession, signalOf, type ScenarioFeature, type ScenarioSession } from '@pagewalk/scenario-runner';

/** A result, or the outcome of a custom action such as fork (then `op` is that action's name). */
export type DemoResult = Omit<OpResult, 'op'> & { op: string };

/** One row of a step: an op (or a custom action), its result and what it shows. */
export interface DemoRow {
  op: string;
  arguments: string;
  result: DemoResult;
  explanation: string;
}

export interface DemoStep {
  title: string;
  /** Set when the step could not run, with the reason. */
  skipped?: string;
  rows: DemoRow[];
}

interface StepScript {
  title: string;
  /** The feature the step needs (its plugin's name: the package's directory under @pagewalk/), if any. */
  feature?: string;
  /** Run the step; `op` executes a scenario op with its explanation. */
  run(step: StepRunner): void;
  /** Extra check: the reason the step cannot run, or null. */
  unavailable?(session: ScenarioSession): string | null;
}

/** An op as a scenario file would write it (defaults may be left out). */
type DemoOp = { op: OpName } & Record<string, unknown>;

interface StepRunner {
  session: ScenarioSession;
  op(op: DemoOp, explanation: string): OpResult;
  custom(op: string, argumentsText: string, result: DemoResult, explanation: string): void;
}

const ARENA_PAGES = 2048;
/** Pages 512..1023: a 2 MiB-aligned range, since the arena base is 1 GiB aligned. */
const HUGE_PAGE = 512;

/** Validates a demo op like a scenario file's op, filling the defaults. */
function scenarioOpOf(op: DemoOp): ScenarioOp {
  const [parsed] = parseScenarioValue({ name: 'demo', arena_pages: ARENA_PAGES, ops: [op] }, 'demo').ops;
  return parsed as ScenarioOp;
}

/** The op's fields as written in the demo: `page=0 pages=16 prot=rw`. */
function argumentsOf(op: DemoOp): string {
  return Object.entries(op)
    .filter(([key]) => key !== 'op')
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') || '[]' : String(value)}`)
    .join(' ');
}

const STEPS: readonly StepScript[] = [
  {
    title: '1. Map anonymous memory and touch it',
    run({ op }) {
      op({ op: 'mmap', page: 0, pages: 16, prot: 'rw' }, 'reserve 16 pages; nothing is allocated until first touch');
      op({ op: 'read', page: 0, pages: 2 }, 'a read of untouched memory maps the shared zero page: 0');
      op({ op: 'write', page: 0, pages: 4, byte: 42 }, 'each write faults in a private zeroed page, then stores 42');
      op({ op: 'read', page: 0, pages: 5 }, 'pages 0-3 hold 42; page 4 was never written');
    },
  },
  {
    title: '2. Make it read-only',
    run({ op }) {
      op({ op: 'mprotect', page: 0, pages: 16, prot: 'r' }, 'drop write permission from the whole range');
      op({ op: 'read', page: 0 }, 'reading is still allowed and sees the old data');
      op({ op: 'write', page: 1, byte: 7 }, 'a write to a read-only VMA cannot be fixed up: SIGSEGV');
      op({ op: 'munmap', page: 4, pages: 4 }, 'unmapping splits the VMA in two');
      op({ op: 'read', page: 5 }, 'an access to an unmapped page: SIGSEGV');
    },
  },
  {
    title: '3. Transparent huge pages',
    run({ op }) {
      op({ op: 'mmap', page: HUGE_PAGE, pages: 512, prot: 'rw' }, 'a 2 MiB-aligned 2 MiB range');
      op({ op: 'madvise', page: HUGE_PAGE, pages: 512, advice: 'hugepage' }, 'THP is "madvise" on this machine: opt the range in');
      op({ op: 'write', page: HUGE_PAGE + 3, byte: 1 }, 'the first fault fills the whole range with one 2 MiB page');
      op({ op: 'read', page: HUGE_PAGE + 3, pages: 2 }, 'the neighbour came with the huge page (zeroed)');
      op({ op: 'madvise', page: HUGE_PAGE, pages: 512, advice: 'dontneed' }, 'MADV_DONTNEED throws the huge page away');
      op({ op: 'read', page: HUGE_PAGE + 3 }, 'the next read sees zero again');
    },
  },
  {
    title: '4. fork() and copy-on-write',
    run({ session, op, custom }) {
      op({ op: 'write', page: HUGE_PAGE + 8, byte: 5 }, 'the parent writes 5');
      const child = session.mm.fork();
      custom('fork', '', { op: 'fork', ret: 0 }, 'the child shares every page, write-protected in both');
      const address = session.arenaBase + (HUGE_PAGE + 8) * 4096;
      const written = child.access(address, AccessKind.Write, 9);
      custom('child write', `page=${HUGE_PAGE + 8} byte=9`, written < 0 ? { op: 'write', signal: signalOf(written), page: HUGE_PAGE + 8 } : { op: 'write', ret: 0 }, 'the write faults and copies the page for the child');
      op({ op: 'read', page: HUGE_PAGE + 8 }, "the parent still reads its own 5");
      const childByte = child.access(address, AccessKind.Read);
      custom('child read', `page=${HUGE_PAGE + 8}`, childByte < 0 ? { op: 'read', signal: signalOf(childByte), page: HUGE_PAGE + 8, bytes: [] } : { op: 'read', ret: 0, bytes: [childByte] }, 'the child reads its private copy: 9');
    },
  },
  {
    title: '5. Guard pages',
    feature: 'guard-pages',
    run({ op }) {
      op({ op: 'mmap', page: 32, pages: 8, prot: 'rw' }, 'a fresh 8-page range');
      op({ op: 'madvise', page: 34, pages: 2, advice: 'guard_install' }, 'install guard markers in pages 34-35, without splitting the VMA');
      op({ op: 'write', page: 33, byte: 1 }, 'the page before the guard works as usual');
      op({ op: 'read', page: 34 }, 'touching a guard page: SIGSEGV');
      op({ op: 'madvise', page: 34, pages: 2, advice: 'guard_remove' }, 'remove the markers');
      op({ op: 'read', page: 34 }, 'the page is ordinary (zero-filled) memory again');
    },
  },
  {
    title: '6. Userfaultfd write-protect',
    feature: 'uffd-wp',
    run({ op }) {
      op({ op: 'mmap', page: 48, pages: 8, prot: 'rw' }, 'a range to track');
      op({ op: 'write', page: 48, pages: 2, byte: 3 }, 'populate two pages');
      op({ op: 'uffd_open', features: [] }, 'one userfaultfd for the process');
      op({ op: 'uffd_register', page: 48, pages: 8, modes: ['wp'] }, 'register the range in write-protect mode');
      op({ op: 'uffd_wp', page: 48, pages: 8, wp: true }, 'write-protect it');
      op({ op: 'write', page: 49, byte: 4 }, 'the write raises a uffd fault; the handler unprotects the page');
      op({ op: 'read', page: 49 }, 'the write went through after the fault was handled');
    },
  },
  {
    title: '7. PAGEMAP_SCAN and /proc/self/pagemap',
    feature: 'pagemap-scan',
    run({ op }) {
      op(
        { op: 'scan', page: 0, pages: 1024, return_mask: ['all'] },
        'one region per run of pages with equal categories',
      );
      op({ op: 'pagemap', page: 0, pages: 5 }, 'per-page flags: pages 0-3 present, page 4 not');
    },
  },
  {
    title: '8. Migration to device memory',
    feature: 'hmm-migrate',
    run({ op }) {
      op({ op: 'mmap', page: 64, pages: 4, prot: 'rw' }, 'four pages for the device');
      op({ op: 'write', page: 64, pages: 4, byte: 8 }, 'fill them from the CPU');
      op({ op: 'dev_migrate', page: 64, pages: 4 }, 'migrate them to device-private memory');
      op({ op: 'dev_snapshot', page: 64, pages: 4 }, 'the device mirror now owns the pages');
      op({ op: 'read', page: 64 }, 'a CPU access migrates the page back to RAM');
    },
  },
];

/** Runs the demo and returns its steps with results. */
export function runDemo(features: readonly ScenarioFeature[]): DemoStep[] {
  const session = createScenarioSession({ arena_pages: ARENA_PAGES }, { features });
  const loaded = new Set(features.map((feature) => feature.name));
  return STEPS.map((script) => {
    const step: DemoStep = { title: script.title, rows: [] };
    if (script.feature !== undefined && !loaded.has(script.feature)) {
      step.skipped = `needs @pagewalk/${script.feature}, which is not installed`;
      return step;
    }
    const reason = script.unavailable?.(session) ?? null;
    if (reason !== null) {
      step.skipped = reason;
      return step;
    }
    script.run({
      session,
      op: (op, explanation) => {
        const result = session.execute(scenarioOpOf(op));
        step.rows.push({ op: op.op, arguments: argumentsOf(op), result, explanation });
        return result;
      },
      custom: (op, argumentsText, result, explanation) => {
        step.rows.push({ op, arguments: argumentsText, result, explanation });
      },
    });
    return step;
  });
}

/** A result in a few words: `ok`, `ok bytes=[42,0]`, `SIGSEGV at page 1`, `-1 EINVAL`. */
export function describeResult(result: DemoResult): string {
  if (result.unsupported) return 'unsupported';
  if (result.signal !== undefined) {
    const read = result.bytes !== undefined && result.bytes.length > 0 ? ` after bytes=[${result.bytes.join(',')}]` : '';
    return `${result.signal} at page ${result.page ?? '?'}${read}`;
  }
  if (result.ret === -1) return `-1 ${result.errno ?? ''}`.trim();
  const parts = [result.op === 'scan' ? `${result.ret ?? '?'} regions` : 'ok'];
  if (result.bytes !== undefined) parts.push(`bytes=[${result.bytes.join(',')}]`);
  if (result.migrated !== undefined) parts.push(`migrated=${result.migrated}`);
  if (result.regions !== undefined) parts.push(result.regions.map(([start, end, categories]) => `[${start},${end}) ${categories.join('+') || '-'}`).join('; '));
  if (result.entries !== undefined) parts.push(result.entries.map((flags) => flags.join('+') || '-').join(' | '));
  if (result.uffd !== undefined) parts.push(`uffd: ${result.uffd.map((fault) => `page ${fault.page} ${fault.flags.join('+')}`).join(', ')}`);
  return parts.join(' ');
}

/** The demo as aligned text tables, one per step. */
const RESULT_WIDTH = 44;

/** Splits a long result at its list separators into lines of at most RESULT_WIDTH characters. */
function wrapResult(text: string): string[] {
  if (text.length <= RESULT_WIDTH) return [text];
  const parts = text.split(/(?<=; |\| )/);
  const out: string[] = [];
  let current = '';
  for (const part of parts) {
    if (current.length > 0 && (current + part).trimEnd().length > RESULT_WIDTH) {
      out.push(current.trimEnd());
      current = '  ';
    }
    current += part;
  }
  if (current.trim().length > 0) out.push(current.trimEnd());
  return out;
}

export function formatDemo(steps: readonly DemoStep[]): string {
  const lines: string[] = ['pagewalk demo: the simulated Linux memory manager, one step at a time.', 'Pages are numbered from the arena base (1 GiB aligned); one page is 4 KiB.', ''];
  for (const step of steps) {
    lines.push(step.title);
    if (step.skipped !== undefined) {
      lines.push(`  (skipped: ${step.skipped})`, '');
      continue;
    }
    const header = ['op', 'arguments', 'result', 'what happened'];
    // Long results (many scan regions, many pagemap entries) wrap inside their column.
    const rows = step.rows.map((row) => [[row.op], [row.arguments], wrapResult(describeResult(row.result)), [row.explanation]]);
    const widths = header.map((title, column) => Math.max(title.length, ...rows.flatMap((row) => (row[column] ?? []).map((line) => line.length))));
    const format = (cells: string[]) => `  ${cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')}`.trimEnd();
    lines.push(format(header), format(widths.map((width) => '-'.repeat(width))));
    for (const row of rows) {
      const height = Math.max(...row.map((cell) => cell.length));
      for (let line = 0; line < height; line++) lines.push(format(row.map((cell) => cell[line] ?? '')));
    }
    lines.push('');
  }
  const ran = steps.filter((step) => step.skipped === undefined).length;
  lines.push(`${ran} of ${steps.length} steps ran.${ran < steps.length ? ' Skipped steps wait for features the simulator does not have yet.' : ''}`);
  return `${lines.join('\n')}\n`;
}
