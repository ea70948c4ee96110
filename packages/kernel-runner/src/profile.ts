/**
 * The host's kernel profile: what the machine's kernel does that changes
 * scenario results (zero page on read faults, THP and mTHP modes, huge zero
 * page, soft-dirty, swap devices, hugetlb pool, userfaultfd, root), probed
 * from sysfs / procfs and by running the runner, and (as root) the temporary
 * adjustment of what can be switched: THP and mTHP modes, the huge zero page,
 * swap (a swap file or zram) and the 2 MiB hugetlb pool.
 *
 * What cannot be switched (the kernel release, the zero page on read faults,
 * soft-dirty, userfaultfd for a non-root user) decides which recordings a
 * host can re-check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  MTHP_MODE_NAMES,
  MTHP_SIZE_NAMES,
  type MthpModeName,
  type MthpSizeName,
  unknownProfileKeys,
  type RecordingProfile,
  type Scenario,
  type ScenarioProfile,
} from '@pagewalk/scenario';

export type ThpMode = 'always' | 'madvise' | 'never';

/** The host profile: the same fields a recording stores. */
export type KernelProfile = RecordingProfile;

/** Profile keys a scenario may state (SCENARIO.md "Profiles"). */
export { PROFILE_KEYS } from '@pagewalk/scenario';

/** Largest hugetlb reservation the runner will make (pages of 2 MiB). */
export const MAX_HUGETLB_PAGES = 64;

/** Size of the swap file or zram device the runner sets up. */
export const SWAP_BYTES = 256 * 1024 * 1024;

export interface ProfilePaths {
  thpEnabled: string;
  thpZeroPage: string;
  /** Directory holding hugepages-<size>/enabled for each mTHP size. */
  thpDir: string;
  configGz: string;
  swaps: string;
  hugeFree: string;
  hugeTotal: string;
  /** Where a swap file is created when a profile asks for one. */
  swapFile: string;
}

export const DEFAULT_PATHS: ProfilePaths = {
  thpEnabled: '/sys/kernel/mm/transparent_hugepage/enabled',
  thpZeroPage: '/sys/kernel/mm/transparent_hugepage/use_zero_page',
  thpDir: '/sys/kernel/mm/transparent_hugepage',
  configGz: '/proc/config.gz',
  swaps: '/proc/swaps',
  hugeFree: '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages',
  hugeTotal: '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages',
  swapFile: join(process.platform === 'linux' ? '/var/tmp' : tmpdir(), 'pagewalk-swapfile'),
};

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** "always [madvise] never" → "madvise" (a bare "always" etc. is read as that mode). */
export function parseThpMode(text: string | undefined): ThpMode {
  const m = /\[(\w+)\]/.exec(text ?? '');
  const mode = m?.[1] ?? text?.trim();
  return mode === 'always' || mode === 'madvise' ? mode : 'never';
}

/** "always inherit madvise [never]" → "never" (undefined when unreadable). */
export function parseMthpMode(text: string | undefined): MthpModeName | undefined {
  if (text === undefined) return undefined;
  const m = /\[(\w+)\]/.exec(text);
  const mode = m?.[1] ?? text.trim();
  return (MTHP_MODE_NAMES as readonly string[]).includes(mode) ? (mode as MthpModeName) : undefined;
}

export interface SwapDevice {
  name: string;
  /** "zram" for /dev/zramN, "file" for a swap file, "disk" for any other block device. */
  kind: 'zram' | 'file' | 'disk';
}

/** Active swap devices/files listed in /proc/swaps, with their kinds. */
export function parseSwapDevices(text: string | undefined): SwapDevice[] {
  return (text ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((fields) => (fields[0] ?? '') !== '')
    .map(([name = '', type = '']) => ({
      name,
      kind: /^\/dev\/zram\d+$/.test(name) ? 'zram' : type === 'file' ? 'file' : 'disk',
    }));
}

/** Names of the active swap devices/files listed in /proc/swaps. */
export function parseSwaps(text: string | undefined): string[] {
  return parseSwapDevices(text).map((d) => d.name);
}

/** The profile's `swap` value for a set of active devices. */
export function swapKindOf(devices: readonly SwapDevice[]): RecordingProfile['swap'] {
  const kinds = new Set(devices.map((d) => d.kind));
  if (kinds.size === 0) return false;
  if (kinds.size > 1) return 'mixed';
  return [...kinds][0] as 'zram' | 'file' | 'disk';
}

/** Whether a kernel config (plain text) enables CONFIG_MEM_SOFT_DIRTY. */
export function configHasSoftDirty(config: string): boolean {
  return /^CONFIG_MEM_SOFT_DIRTY=y$/m.test(config);
}

function readConfig(path: string): string {
  try {
    return gunzipSync(readFileSync(path)).toString('utf8');
  } catch {
    return '';
  }
}

/** Every anonymous mTHP size whose sysfs file exists, with its mode. */
export function readMthp(thpDir: string): Partial<Record<MthpSizeName, MthpModeName>> {
  const out: Partial<Record<MthpSizeName, MthpModeName>> = {};
  let present: Set<string>;
  try {
    present = new Set(readdirSync(thpDir));
  } catch {
    return out;
  }
  for (const size of MTHP_SIZE_NAMES) {
    if (!present.has(`hugepages-${size}`)) continue;
    const mode = parseMthpMode(readText(join(thpDir, `hugepages-${size}`, 'enabled')));
    if (mode !== undefined) out[size] = mode;
  }
  return out;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** What the runner finds out by running: the zero page on read faults and userfaultfd. */
export interface RunnerProbe {
  zero_page: boolean;
  userfaultfd: boolean;
}

const PFNZERO = 1 << 5;

/**
 * Runs the runner once: a read fault on an anonymous page (does PAGEMAP_SCAN
 * report it pfnzero, i.e. did the kernel map the shared zero page?) and
 * userfaultfd with WP_ASYNC. Throws when the runner or PAGEMAP_SCAN fails.
 */
export function probeWithRunner(runner: string): RunnerProbe {
  const input =
    'arena 16\nmmap page=0 pages=1 prot=rw\nread page=0 pages=1\n' +
    `scan size=96 flags=0 start=0 end=4096 mask=${PFNZERO} anyof=0 inverted=0 return=${PFNZERO} max_pages=0 vec_len=16\n` +
    'uffd_open features=wp_async\n';
  const r = spawnSync(runner, [], { input, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`runner probe failed: ${r.stderr?.trim() || r.error?.message || `exit ${r.status}`}`);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ret?: number; errno?: string });
  const scan = lines[2] ?? {};
  if (scan.ret === undefined || scan.ret < 0) throw new Error(`PAGEMAP_SCAN unusable (${scan.errno ?? JSON.stringify(scan)})`);
  return { zero_page: scan.ret === 1, userfaultfd: lines[3]?.ret === 0 };
}

/**
 * The host's profile. `probe` gives what only running can tell (the runner's
 * answer, see {@link probeWithRunner}); without it the zero page is assumed on
 * and userfaultfd off.
 */
export function machineProfile(paths: ProfilePaths = DEFAULT_PATHS, probe?: RunnerProbe): KernelProfile {
  return {
    kernel: release(),
    zero_page: probe?.zero_page ?? true,
    thp: parseThpMode(readText(paths.thpEnabled)),
    thp_zero_page: (readText(paths.thpZeroPage) ?? '0').trim() === '1',
    mthp: readMthp(paths.thpDir),
    soft_dirty: configHasSoftDirty(readConfig(paths.configGz)),
    swap: swapKindOf(parseSwapDevices(readText(paths.swaps))),
    hugetlb_pages: Number.parseInt(readText(paths.hugeFree) ?? '0', 10) || 0,
    root: isRoot(),
    userfaultfd: probe?.userfaultfd ?? false,
  };
}

/** "6.18.44-fc-v1252" → "6.18.44": recordings name the release, not the build. */
export function kernelVersion(release: string): string {
  return /^\d+\.\d+(\.\d+)?/.exec(release)?.[0] ?? release;
}

/**
 * The mTHP modes a scenario's `mthp` asks for, completed as SCENARIO.md
 * says: sizes not given are "never", except 2048kB ("inherit"). Only sizes the
 * host offers are returned (`offered`).
 */
export function completeMthp(
  wanted: Partial<Record<MthpSizeName, MthpModeName>>,
  offered: Partial<Record<MthpSizeName, MthpModeName>>,
): Partial<Record<MthpSizeName, MthpModeName>> {
  const out: Partial<Record<MthpSizeName, MthpModeName>> = {};
  for (const size of MTHP_SIZE_NAMES) {
    if (offered[size] === undefined) continue;
    out[size] = wanted[size] ?? (size === '2048kB' ? 'inherit' : 'never');
  }
  return out;
}

/**
 * What the machine must look like for a run: a scenario's requirements, or
 * the whole adjustable part of a recording's profile (to re-check it).
 */
export interface ProfileTarget {
  thp?: ThpMode;
  thp_zero_page?: boolean;
  /** Complete (every size the host offers) or partial mTHP modes. */
  mthp?: Partial<Record<MthpSizeName, MthpModeName>>;
  /** true = any swap; false = none; a kind = only that kind. */
  swap?: boolean | RecordingProfile['swap'];
  hugetlb_pages?: number;
  zero_page?: boolean;
  soft_dirty?: boolean;
  /** Compared by version ("6.18.44"). */
  kernel?: string;
  userfaultfd?: boolean;
}

function swapSatisfied(wanted: ProfileTarget['swap'], have: RecordingProfile['swap']): boolean {
  if (wanted === undefined) return true;
  if (wanted === true) return have !== false;
  return wanted === have;
}

const ADJUSTABLE = new Set(['thp', 'thp_zero_page', 'mthp', 'swap', 'hugetlb_pages']);

/** A profile mismatch: what differs, and whether root can switch it. */
export interface Mismatch {
  key: string;
  reason: string;
  adjustable: boolean;
}

/** How `machine` differs from `wanted` (empty = it matches). */
export function targetMismatches(wanted: ProfileTarget, machine: KernelProfile): Mismatch[] {
  const out: Mismatch[] = [];
  const add = (key: string, want: unknown, have: unknown) =>
    out.push({
      key,
      adjustable: ADJUSTABLE.has(key),
      reason: `profile ${key}=${JSON.stringify(want)} but the machine has ${JSON.stringify(have)}`,
    });
  if (wanted.kernel !== undefined && kernelVersion(wanted.kernel) !== kernelVersion(machine.kernel))
    add('kernel', kernelVersion(wanted.kernel), kernelVersion(machine.kernel));
  for (const key of ['zero_page', 'soft_dirty', 'thp', 'thp_zero_page', 'hugetlb_pages'] as const)
    if (wanted[key] !== undefined && wanted[key] !== machine[key]) add(key, wanted[key], machine[key]);
  if (wanted.userfaultfd === true && !machine.userfaultfd) add('userfaultfd', true, false);
  if (!swapSatisfied(wanted.swap, machine.swap)) add('swap', wanted.swap, machine.swap);
  if (wanted.mthp !== undefined) {
    const full = completeMthp(wanted.mthp, machine.mthp);
    for (const size of Object.keys(wanted.mthp) as MthpSizeName[])
      if (machine.mthp[size] === undefined) out.push({ key: 'mthp', adjustable: false, reason: `the kernel offers no ${size} mTHP size` });
    const differs = (Object.keys(full) as MthpSizeName[]).filter((size) => full[size] !== machine.mthp[size]);
    if (differs.length > 0)
      add(
        'mthp',
        Object.fromEntries(differs.map((s) => [s, full[s]])),
        Object.fromEntries(differs.map((s) => [s, machine.mthp[s]])),
      );
  }
  return out;
}

/** The requirements a scenario's profile states (unknown keys are the parser's business). */
export function scenarioTarget(profile: ScenarioProfile | undefined): ProfileTarget {
  if (profile === undefined) return {};
  const target: ProfileTarget = {};
  if (profile.thp !== undefined) target.thp = profile.thp;
  if (profile.thp_zero_page !== undefined) target.thp_zero_page = profile.thp_zero_page;
  if (profile.soft_dirty !== undefined) target.soft_dirty = profile.soft_dirty;
  if (profile.swap !== undefined) target.swap = profile.swap;
  if (profile.hugetlb_pages !== undefined) target.hugetlb_pages = profile.hugetlb_pages;
  if (profile.zero_page !== undefined) target.zero_page = profile.zero_page;
  if (profile.mthp !== undefined) target.mthp = profile.mthp;
  return target;
}

/**
 * Everything of a recording's profile that decides its results: re-checking
 * the recording needs a machine that matches all of it.
 */
export function recordingTarget(profile: RecordingProfile, usesUffd: boolean): ProfileTarget {
  return {
    kernel: profile.kernel,
    zero_page: profile.zero_page,
    soft_dirty: profile.soft_dirty,
    thp: profile.thp,
    thp_zero_page: profile.thp_zero_page,
    mthp: profile.mthp,
    swap: profile.swap,
    hugetlb_pages: profile.hugetlb_pages,
    ...(usesUffd ? { userfaultfd: true } : {}),
  };
}

/** One reason per profile key the scenario format does not define. */
export function unknownKeyReasons(profile: ScenarioProfile | undefined): string[] {
  return unknownProfileKeys({ profile } as Scenario).map((key) => `unknown profile key "${key}"`);
}

/**
 * Compares a scenario profile with a machine profile. Returns the reasons it
 * does not match (empty = match), including an unknown key.
 */
export function profileMismatches(wanted: unknown, machine: KernelProfile): string[] {
  if (wanted === undefined) return [];
  if (typeof wanted !== 'object' || wanted === null || Array.isArray(wanted)) return ['profile is not an object'];
  const unknown = unknownKeyReasons(wanted as ScenarioProfile);
  if (unknown.length > 0) return unknown;
  return targetMismatches(scenarioTarget(wanted as ScenarioProfile), machine).map((m) => m.reason);
}

export interface MachineChange {
  /** Undo the change (best effort). */
  restore(): void;
}

const ZRAM = 'zram0';

function runnerSwap(runner: string, mode: '--swapon' | '--swapoff', dev: string): void {
  execFileSync(runner, [mode, dev], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function enableZram(runner: string): MachineChange {
  const sys = `/sys/block/${ZRAM}`;
  const dev = `/dev/${ZRAM}`;
  if (!existsSync(sys) || !existsSync(dev)) throw new Error(`no ${dev} to use as swap`);
  let initialised = false;
  if ((readText(`${sys}/initstate`) ?? '0').trim() === '0') {
    writeFileSync(`${sys}/disksize`, String(SWAP_BYTES));
    initialised = true;
  }
  try {
    runnerSwap(runner, '--swapon', dev);
  } catch (e) {
    if (initialised) writeFileSync(`${sys}/reset`, '1');
    throw e;
  }
  return {
    restore() {
      runnerSwap(runner, '--swapoff', dev);
      if (initialised) writeFileSync(`${sys}/reset`, '1');
    },
  };
}

function enableSwapFile(runner: string, path: string): MachineChange {
  // Written out (not fallocated): swapon refuses files with holes or unwritten extents on some filesystems.
  const fd = openSync(path, 'w', 0o600);
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < SWAP_BYTES >> 20; i++) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  try {
    runnerSwap(runner, '--swapon', path);
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
  return {
    restore() {
      runnerSwap(runner, '--swapoff', path);
      rmSync(path, { force: true });
    },
  };
}

function disableSwap(runner: string, device: SwapDevice): MachineChange {
  runnerSwap(runner, '--swapoff', device.name);
  return {
    restore() {
      runnerSwap(runner, '--swapon', device.name);
    },
  };
}

/** Switches the active swap to what `wanted` asks for. */
function setSwap(wanted: NonNullable<ProfileTarget['swap']>, runner: string, paths: ProfilePaths, changes: MachineChange[]): void {
  const active = parseSwapDevices(readText(paths.swaps));
  const keepKind = wanted === true ? undefined : wanted;
  if (wanted === 'disk' || wanted === 'mixed') throw new Error(`cannot set up swap "${wanted}"`);
  for (const device of active) if (wanted === false || (keepKind !== undefined && device.kind !== keepKind)) changes.push(disableSwap(runner, device));
  if (wanted === false) return;
  const remaining = parseSwapDevices(readText(paths.swaps));
  if (remaining.length > 0) return;
  changes.push(wanted === 'file' ? enableSwapFile(runner, paths.swapFile) : enableZram(runner));
}

/** Writes a sysfs setting; restore() writes the old value back. */
function setSysfs(path: string, value: string, old: string): MachineChange {
  writeFileSync(path, value);
  return {
    restore() {
      writeFileSync(path, old);
    },
  };
}

function setHugetlbFree(wanted: number, paths: ProfilePaths): MachineChange {
  if (!Number.isSafeInteger(wanted) || wanted < 0) throw new Error(`bad hugetlb_pages ${wanted}`);
  if (wanted > MAX_HUGETLB_PAGES) throw new Error(`refusing to reserve more than ${MAX_HUGETLB_PAGES} hugetlb pages`);
  const total = Number.parseInt(readText(paths.hugeTotal) ?? '', 10);
  const free = Number.parseInt(readText(paths.hugeFree) ?? '', 10);
  if (!Number.isFinite(total) || !Number.isFinite(free)) throw new Error('no 2 MiB hugetlb pool');
  const target = total - free + wanted;
  writeFileSync(paths.hugeTotal, String(target));
  const change = {
    restore() {
      writeFileSync(paths.hugeTotal, String(total));
    },
  };
  const nowFree = Number.parseInt(readText(paths.hugeFree) ?? '', 10);
  if (nowFree !== wanted) {
    change.restore();
    throw new Error(`could only get ${nowFree} free hugetlb pages`);
  }
  return change;
}

/**
 * Makes the machine match the adjustable parts of `wanted` (root only).
 * Returns the changes made (restore them afterwards) or a skip reason.
 * `probe` is the runner's answer for the keys only running can tell.
 */
export function adjustMachine(
  wanted: ProfileTarget,
  runner: string,
  paths: ProfilePaths = DEFAULT_PATHS,
  probe?: RunnerProbe,
): { changes: MachineChange[] } | { skipped: string } {
  const machine = machineProfile(paths, probe);
  const mismatch = targetMismatches(wanted, machine);
  if (mismatch.length === 0) return { changes: [] };
  const fixed = mismatch.filter((m) => !m.adjustable);
  if (fixed.length > 0) return { skipped: fixed.map((m) => m.reason).join('; ') };
  if (!isRoot()) return { skipped: `${mismatch.map((m) => m.reason).join('; ')} (not root, cannot adjust)` };
  const changes: MachineChange[] = [];
  const undo = () => {
    for (const c of changes.reverse()) c.restore();
  };
  const keys = new Set(mismatch.map((m) => m.key));
  try {
    if (keys.has('thp')) {
      if (wanted.thp !== 'always' && wanted.thp !== 'madvise' && wanted.thp !== 'never') throw new Error('profile thp must be always, madvise or never');
      changes.push(setSysfs(paths.thpEnabled, wanted.thp, machine.thp));
    }
    if (keys.has('thp_zero_page')) {
      if (typeof wanted.thp_zero_page !== 'boolean') throw new Error('profile thp_zero_page must be a boolean');
      changes.push(setSysfs(paths.thpZeroPage, wanted.thp_zero_page ? '1' : '0', machine.thp_zero_page ? '1' : '0'));
    }
    if (keys.has('mthp') && wanted.mthp !== undefined) {
      const full = completeMthp(wanted.mthp, machine.mthp);
      for (const size of Object.keys(full) as MthpSizeName[]) {
        const want = full[size];
        const have = machine.mthp[size];
        if (want === undefined || have === undefined || want === have) continue;
        changes.push(setSysfs(join(paths.thpDir, `hugepages-${size}`, 'enabled'), want, have));
      }
    }
    if (keys.has('swap') && wanted.swap !== undefined) setSwap(wanted.swap, runner, paths, changes);
    if (keys.has('hugetlb_pages')) {
      if (typeof wanted.hugetlb_pages !== 'number') throw new Error('profile hugetlb_pages must be a number');
      changes.push(setHugetlbFree(wanted.hugetlb_pages, paths));
    }
  } catch (e) {
    undo();
    return { skipped: `cannot match profile: ${(e as Error).message}` };
  }
  const after = targetMismatches(wanted, machineProfile(paths, probe));
  if (after.length > 0) {
    undo();
    return { skipped: after.map((m) => m.reason).join('; ') };
  }
  return { changes };
}
