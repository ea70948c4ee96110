// Finds the optional feature packages (pagemap-scan, uffd-wp, guard-pages,
// hmm-migrate) at run time. A package that is not installed is simply absent:
// its ops stay unsupported. A package that is installed but fails to load is
// an error, never silently ignored. What a feature module must export (the
// integration contract) and how it becomes a ScenarioFeature is
// @pagewalk/scenario-runner's scenarioFeatureOf.
import type { OpName } from '@pagewalk/scenario';
import { scenarioFeatureOf, type ScenarioFeature } from '@pagewalk/scenario-runner';

export interface FeaturePackage {
  /** Directory name under packages/. */
  name: string;
  specifier: string;
  /** The scenario ops this feature provides (for messages about missing features). */
  ops: readonly OpName[];
  /** What it adds to the story of `pagewalk demo`. */
  summary: string;
}

export const FEATURE_PACKAGES: readonly FeaturePackage[] = [
  { name: 'guard-pages', specifier: '@pagewalk/guard-pages', ops: [], summary: 'MADV_GUARD_INSTALL / MADV_GUARD_REMOVE' },
  { name: 'pagemap-scan', specifier: '@pagewalk/pagemap-scan', ops: ['scan', 'pagemap'], summary: 'PAGEMAP_SCAN and /proc/self/pagemap' },
  {
    name: 'uffd-wp',
    specifier: '@pagewalk/uffd-wp',
    ops: ['uffd_open', 'uffd_register', 'uffd_unregister', 'uffd_wp'],
    summary: 'userfaultfd write-protect',
  },
  {
    name: 'hmm-migrate',
    specifier: '@pagewalk/hmm-migrate',
    ops: ['dev_migrate', 'dev_migrate_back', 'dev_read', 'dev_write', 'dev_snapshot'],
    summary: 'device-private migration (HMM test driver)',
  },
];

function isModuleNotFound(error: unknown, specifier: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(specifier)) return true;
  // Vite's module runner (vitest) words it differently.
  return /Cannot find (package|module)|Failed to (load|resolve)/.test(error.message) && error.message.includes(specifier);
}

/** Turns a loaded feature module into its scenario adapter. */
export function adaptFeatureModule(featurePackage: FeaturePackage, module: Record<string, unknown>): ScenarioFeature {
  return scenarioFeatureOf(featurePackage.name, module);
}

/** Imports a module by a name only known at run time (so the build does not need the package). */
const importOptional = (specifier: string): Promise<Record<string, unknown>> => import(specifier) as Promise<Record<string, unknown>>;

/** Loads every installed feature package; absent ones are left out. */
export async function loadScenarioFeatures(packages: readonly FeaturePackage[] = FEATURE_PACKAGES): Promise<ScenarioFeature[]> {
  const features: ScenarioFeature[] = [];
  for (const featurePackage of packages) {
    let module: Record<string, unknown>;
    try {
      module = await importOptional(featurePackage.specifier);
    } catch (error) {
      if (isModuleNotFound(error, featurePackage.specifier)) continue;
      throw new Error(`feature package ${featurePackage.specifier} failed to load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    features.push(adaptFeatureModule(featurePackage, module));
  }
  return features;
}
