/**
 * Machine profile detection and (as root) temporary adjustment of the
 * machine to a scenario's profile: the THP mode and huge zero page
 * (sysfs), zram swap and 2 MiB hugetlb pages.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

export type ThpMode = 'always' | 'madvise' | 'never';

export interface KernelProfile {
  thp: ThpMode;
  thp_zero_page: boolean;
  soft_dirty: boolean;
  swap: boolean;
  hugetlb_pages: number;
  kernel: string;
}

/** Profile keys a scenario may state (SCENARIO.md "Profiles"). */
export const PROFILE_KEYS = ['thp', 'thp_zero_page', 'soft_dirty', 'swap', 'hugetlb_pages'] as const;

/** Largest hugetlb reservation the runner will make (pages of 2 MiB). */
export const MAX_HUGETLB_PAGES = 64;

export interface ProfilePaths {
  thpEnabled: string;
  thpZeroPage: string;
  configGz: string;
  swaps: string;
  hugeFree: string;
  hugeTotal: string;
}

export const DEFAULT_PATHS: ProfilePaths = {
  thpEnabled: '/sys/kernel/mm/transparent_hugepage/enabled',
  thpZeroPage: '/sys/kernel/mm/transparent_hugepage/use_zero_page',
  configGz: '/proc/config.gz',
  swaps: '/proc/swaps',
  hugeFree: '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages',
  hugeTotal: '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages',
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

/** Active swap devices/files listed in /proc/swaps. */
export function parseSwaps(text: string | undefined): string[] {
  return (text ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
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

export function machineProfile(paths: ProfilePaths = DEFAULT_PATHS): KernelProfile {
  return {
    thp: parseThpMode(readText(paths.thpEnabled)),
    thp_zero_page: (readText(paths.thpZeroPage) ?? '0').trim() === '1',
    soft_dirty: configHasSoftDirty(readConfig(paths.configGz)),
    swap: parseSwaps(readText(paths.swaps)).length > 0,
    hugetlb_pages: Number.parseInt(readText(paths.hugeFree) ?? '0', 10) || 0,
    kernel: release(),
  };
}

/**
 * Compares a scenario profile with a machine profile. Returns the reasons it
 * does not match (empty = match). Keys that can be adjusted (thp,
 * thp_zero_page, swap, hugetlb_pages) are reported too; {@link adjustMachine}
 * handles them.
 */
export function profileMismatches(wanted: unknown, machine: KernelProfile): string[] {
  if (wanted === undefined) return [];
  if (typeof wanted !== 'object' || wanted === null || Array.isArray(wanted)) return ['profile is not an object'];
  const reasons: string[] = [];
  for (const [key, value] of Object.entries(wanted as Record<string, unknown>)) {
    if (!(PROFILE_KEYS as readonly string[]).includes(key)) {
      reasons.push(`unknown profile key "${key}"`);
      continue;
    }
    const have = machine[key as (typeof PROFILE_KEYS)[number]];
    if (have !== value)
      reasons.push(`profile ${key}=${JSON.stringify(value)} but the machine has ${JSON.stringify(have)}`);
  }
  return reasons;
}

export interface MachineChange {
  /** Undo the change (best effort). */
  restore(): void;
}

const ZRAM = 'zram0';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function enableZramSwap(runner: string): MachineChange {
  const sys = `/sys/block/${ZRAM}`;
  const dev = `/dev/${ZRAM}`;
  if (!existsSync(sys) || !existsSync(dev)) throw new Error(`no ${dev} to use as swap`);
  let initialised = false;
  if ((readText(`${sys}/initstate`) ?? '0').trim() === '0') {
    writeFileSync(`${sys}/disksize`, String(256 * 1024 * 1024));
    initialised = true;
  }
  try {
    execFileSync(runner, ['--swapon', dev], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    if (initialised) writeFileSync(`${sys}/reset`, '1');
    throw e;
  }
  return {
    restore() {
      execFileSync(runner, ['--swapoff', dev], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (initialised) writeFileSync(`${sys}/reset`, '1');
    },
  };
}

function disableZramSwap(runner: string, active: string[]): MachineChange {
  const dev = `/dev/${ZRAM}`;
  if (active.length !== 1 || active[0] !== dev) throw new Error(`swap is active on ${active.join(', ')}`);
  execFileSync(runner, ['--swapoff', dev], { stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    restore() {
      execFileSync(runner, ['--swapon', dev], { stdio: ['ignore', 'ignore', 'pipe'] });
    },
  };
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
 */
export function adjustMachine(
  wanted: unknown,
  runner: string,
  paths: ProfilePaths = DEFAULT_PATHS,
): { changes: MachineChange[] } | { skipped: string } {
  const machine = machineProfile(paths);
  const mismatch = profileMismatches(wanted, machine);
  if (mismatch.length === 0) return { changes: [] };
  const w = wanted as Record<string, unknown>;
  const fixed = mismatch.filter((r) => !/^profile (thp|thp_zero_page|swap|hugetlb_pages)=/.test(r));
  if (fixed.length > 0) return { skipped: fixed.join('; ') };
  if (!isRoot()) return { skipped: `${mismatch.join('; ')} (not root, cannot adjust)` };
  const changes: MachineChange[] = [];
  const undo = () => {
    for (const c of changes.reverse()) c.restore();
  };
  try {
    if (w.thp !== undefined && w.thp !== machine.thp) {
      if (w.thp !== 'always' && w.thp !== 'madvise' && w.thp !== 'never') throw new Error('profile thp must be always, madvise or never');
      changes.push(setSysfs(paths.thpEnabled, w.thp, machine.thp));
    }
    if (w.thp_zero_page !== undefined && w.thp_zero_page !== machine.thp_zero_page) {
      if (typeof w.thp_zero_page !== 'boolean') throw new Error('profile thp_zero_page must be a boolean');
      changes.push(setSysfs(paths.thpZeroPage, w.thp_zero_page ? '1' : '0', machine.thp_zero_page ? '1' : '0'));
    }
    if (w.swap !== undefined && w.swap !== machine.swap) {
      if (typeof w.swap !== 'boolean') throw new Error('profile swap must be a boolean');
      changes.push(w.swap ? enableZramSwap(runner) : disableZramSwap(runner, parseSwaps(readText(paths.swaps))));
    }
    if (w.hugetlb_pages !== undefined && w.hugetlb_pages !== machine.hugetlb_pages) {
      if (typeof w.hugetlb_pages !== 'number') throw new Error('profile hugetlb_pages must be a number');
      changes.push(setHugetlbFree(w.hugetlb_pages, paths));
    }
  } catch (e) {
    undo();
    return { skipped: `cannot match profile: ${(e as Error).message}` };
  }
  const after = profileMismatches(wanted, machineProfile(paths));
  if (after.length > 0) {
    undo();
    return { skipped: after.join('; ') };
  }
  return { changes };
}
