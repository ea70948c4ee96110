// The --help text of every command.

export const MAIN_HELP = `usage: pagewalk <command> [options]

Simulates the Linux memory manager (Linux 6.18) and checks it against the
real kernel, using scenario files (docs/SCENARIO.md in the repository).

commands:
  run FILE...        run scenarios on the simulator, one JSON line per file (--trace: walks and mm events too)
  demo [--json]      a guided tour of the simulator, step by step
  conform PATH...    run scenarios on the simulator and the kernel, show differences
  fuzz               differential fuzzing of the simulator against the kernel
  soak [--ops N]     long random run on the library API, checking every byte and invariant
  kernel-profile     print this machine's kernel profile (what recordings it can re-check)
  explore [FILE]     see a scenario in the browser: map, page tables, walk traces, kernel diff
  help [COMMAND]     show help (also: pagewalk COMMAND --help)

options:
  --version, -V      print the version
`;

export const COMMAND_HELP: Record<string, string> = {
  run: `usage: pagewalk run [--allow-skips] [--trace[=KINDS]] FILE...

Runs each scenario on the simulator and prints one JSON object per file on its
own line: {"name": ..., "results": [...]}, or {"name": ..., "skipped": reason}
when the scenario's profile has a key this version does not know (then the
exit status is 1, so that a typo does not pass silently) or asks for what the
simulator does not model. Ops whose feature package is not installed give
{"op": ..., "unsupported": true}. Every file is validated before any runs; a
bad file is a one-line error.

options:
  --allow-skips   exit 0 even when a scenario was skipped for an unknown profile key
  --trace         before each results line, print every page-table walk the ops
                  make as JSON lines {"op": N, "trace": EVENT} (core-walk's
                  kernel.trace(): walk_start / walk_end named after the 6.18
                  entry point, and each mm_walk_ops callback with its caller,
                  range, depth, entry, return value and pud/pmd action), and
                  every mm decision: the fault path taken, zaps, splits,
                  reclaim, madvise and collapse results, each named after the
                  6.18 function it models (handle_mm_fault, do_anonymous_page,
                  alloc_anon_folio, wp_page_copy, zap_pte_range,
                  __split_huge_pmd_locked, shrink_folio_list, ...)
  --trace=KINDS   only these kinds, comma-separated: walk, fault, zap, split,
                  reclaim, madvise, collapse (e.g. --trace=fault,reclaim)
`,
  'kernel-profile': `usage: pagewalk kernel-profile [--json]

Probes this machine's kernel as the kernel runner sees it: release, zero page
on read faults, THP and mTHP modes, huge zero page, soft-dirty, swap device
kind, hugetlb pool, userfaultfd, root. Every kernel recording stores this
profile; a recording is re-checked only on a machine that can reproduce it.
Exit status 1 (0 with --json) when the kernel runner is unavailable.

options:
  --json   print {"available": ..., "profile": ...} as one JSON object
`,
  demo: `usage: pagewalk demo [--json]

A guided tour: maps memory, writes and reads it, makes it read-only and takes a
SIGSEGV, uses a transparent huge page, and (when their feature packages are
installed) guard pages, userfaultfd write-protect, PAGEMAP_SCAN and device
migration. Each step is a table of ops, results and explanations.

options:
  --json   print the steps and results as one JSON object
`,
  conform: `usage: pagewalk conform [--allow-skips] PATH...

Runs each scenario on the simulator and on this machine's kernel and shows the
first op where they differ. PATH may be a directory: it is searched for *.json
(recorded *.kernel.json files are ignored). Scenarios with device ops are
checked against the "expect" of their ops instead of the kernel. A scenario with
"known_failing" is reported separately. Ends with
"conformance: N/M scenarios match the kernel"; exit status 1 when a scenario
that is not known to fail differs, or when one was skipped for an unknown
profile key (unless --allow-skips). Scenarios this machine's kernel cannot
run as their profile asks are skipped with the reason.

A PATH that is a directory named corpus, with a docs/ directory beside it
holding kernel self-test parity tables (selftest-parity*.md), also prints one
line per table, "selftest parity (FILE.c): N/M cases expressed, all N match
the kernel", after checking that every scenario a "matches the kernel" row
links matched in this run (exit status 1 when one did not).
`,
  fuzz: `usage: pagewalk fuzz [--count N] [--seed S] [--out DIR] [--profiles]

Generates random scenarios (small arenas, ops the simulator supports, valid and
invalid arguments), runs each on the simulator and the kernel, and shrinks the
first mismatch to a minimal scenario written to DIR. Exit status 0 when nothing
differs.

options:
  --count N   scenarios to try (default 100)
  --seed S    random seed, to reproduce a run (default: chosen and printed)
  --out DIR   where a shrunk mismatch is written (default fuzz-failures)
  --profiles  also draw a kernel profile per scenario (THP mode, huge zero page,
              zram swap, 2 MiB hugetlb pages); the kernel side sets the machine
              up for each (root only, otherwise those scenarios are skipped)
`,
  soak: `usage: pagewalk soak [--ops N] [--seed S] [--json]

Drives the simulator's library API directly with random operations from every
installed feature: mmap (anonymous, memfd, several mappings of one memfd,
MAP_POPULATE), partial munmap, mprotect, mlock, every madvise advice (guard
pages included), reads and writes at any byte offset and length (crossing
pages), fork trees and exits, userfaultfd (MISSING, write-protect), device
migration and device reads and writes (HMM test driver), under THP always,
madvise and never, with and without swap. After every op it checks the
kernel's invariants and the bytes of the pages the op touched, in every
process, against a byte model (every mapped page every 256 ops and at the
end of each 2000-op episode, which starts a fresh kernel). Any exception is
a failure. Reports ops run, ops/s and violations; on a violation it shrinks
the failing episode and prints a minimal reproduction, exit status 1.

options:
  --ops N    ops to run (default 100000)
  --seed S   random seed, to reproduce a run (default: chosen and printed)
  --json     also print the report as one JSON object
`,
  explore: `usage: pagewalk explore [FILE] [--out REPORT.html] [--port N]

Shows a scenario in the browser: its ops and results (click or arrow keys to
step), the address-space map after the selected op (VMAs, every page coloured
by entry kind or PAGEMAP_SCAN category), the page-table tree of any page with
its folio and swap slot, traced walks (any PAGEMAP_SCAN or other op, run at the
selected op), the kernel diff against any recording next to it
(NAME.kernel.json, NAME.TAG.kernel.json: pick one, the simulator runs under its
profile), and a playground to edit and re-run the scenario. The simulator runs
in the page. Without FILE, a built-in example.

Serves the page on http://127.0.0.1:PORT/ (127.0.0.1 only) until Ctrl-C. The
served page can also run the scenario (or the edited one) on this machine's
kernel and diff against that, when the kernel runner is usable here (Linux, a C
compiler; PAGEWALK_KERNEL_RUNNER=unavailable turns it off); one run at a time.

options:
  --out FILE  write the page as one self-contained HTML file instead (opens from
              disk, no server)
  --port N    port to serve on (default: any free port, printed)
`,
  help: `usage: pagewalk help [COMMAND]

Shows the help of pagewalk or of one command.
`,
};
