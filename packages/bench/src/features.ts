/**
 * Optional feature packages. The benchmark runs the cases whose feature
 * package can be imported and reports the others as n/a, never a number.
 *
 * Resolution: the package name first (declared dependencies), then the
 * workspace folder next to this package (built dist/, or src/ when running
 * from TypeScript sources under vitest).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type FeatureDir = 'pagemap-scan' | 'uffd-wp' | 'guard-pages';

export type Loaded = { ok: true; mod: Record<string, unknown> } | { ok: false; reason: string };

const HERE = dirname(fileURLToPath(import.meta.url));
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const cache = new Map<FeatureDir, Promise<Loaded>>();

async function tryImport(spec: string): Promise<Record<string, unknown> | null> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return null;
    if (/Cannot find (module|package)|Failed to (load|resolve)/.test((e as Error).message)) return null;
    throw e;
  }
}

async function load(dir: FeatureDir): Promise<Loaded> {
  const name = `@pagewalk/${dir}`;
  const missing: Loaded = { ok: false, reason: `feature package ${name} not installed` };
  try {
    const byName = await tryImport(name);
    if (byName !== null) return { ok: true, mod: byName };
    const root = join(HERE, '..', '..', dir);
    const candidates = FROM_SOURCE ? [join(root, 'src', 'index.ts'), join(root, 'dist', 'index.js')] : [join(root, 'dist', 'index.js')];
    for (const file of candidates) {
      if (!existsSync(file)) continue;
      const mod = await tryImport(pathToFileURL(file).href);
      if (mod !== null) return { ok: true, mod };
    }
    return missing;
  } catch (e) {
    return { ok: false, reason: `feature package ${name} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** Imports a feature package once per process. */
export function loadFeature(dir: FeatureDir): Promise<Loaded> {
  let p = cache.get(dir);
  if (p === undefined) {
    p = load(dir);
    cache.set(dir, p);
  }
  return p;
}
