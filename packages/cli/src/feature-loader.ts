// Finds the optional feature packages at run time. The list is not written
// here: a feature package is one of the CLI's dependencies whose
// package.json carries the `pagewalk-feature` keyword, and it exports one
// `plugin` (@pagewalk/scenario's FeaturePlugin) that says which ops and
// madvise advice it adds. A package that is not installed is simply absent:
// its ops stay unsupported. A package that is installed but fails to load,
// exports no plugin, or claims an op another feature claims is an error,
// never silently ignored.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FEATURE_PACKAGE_KEYWORD } from '@pagewalk/scenario';
import { checkFeaturePlugins, featurePluginOf, type ScenarioFeature } from '@pagewalk/scenario-runner';

/** The CLI's own package.json (next to src/ and dist/). */
const OWN_MANIFEST = fileURLToPath(new URL('../package.json', import.meta.url));

interface PackageManifest {
  keywords?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The feature packages a package declares: its dependencies (and optional
 * ones) that are installed and carry the `pagewalk-feature` keyword, by
 * name. Defaults to the CLI's own package.json.
 */
export function featurePackageNames(manifestPath: string = OWN_MANIFEST): string[] {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PackageManifest;
  const resolveFrom = createRequire(manifestPath);
  const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }).sort();
  return names.filter((name) => {
    let dependency: PackageManifest;
    try {
      dependency = resolveFrom(`${name}/package.json`) as PackageManifest;
    } catch {
      return false; // not installed, or no ./package.json export: not a feature package
    }
    return Array.isArray(dependency.keywords) && dependency.keywords.includes(FEATURE_PACKAGE_KEYWORD);
  });
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(specifier)) return true;
  // Vite's module runner (vitest) words it differently.
  return /Cannot find (package|module)|Failed to (load|resolve)/.test(error.message) && error.message.includes(specifier);
}

/** Imports a module by a name only known at run time (so the build does not need the package). */
const importOptional = (specifier: string): Promise<Record<string, unknown>> => import(specifier) as Promise<Record<string, unknown>>;

/**
 * Loads the plugin of every installed feature package (by default the ones
 * featurePackageNames finds; a specifier may also be a module's file URL);
 * absent ones are left out. The plugins are checked together: two claiming
 * one op or advice name is an error.
 */
export async function loadScenarioFeatures(specifiers: readonly string[] = featurePackageNames()): Promise<ScenarioFeature[]> {
  const features: ScenarioFeature[] = [];
  for (const specifier of specifiers) {
    let module: Record<string, unknown>;
    try {
      module = await importOptional(specifier);
    } catch (error) {
      if (isModuleNotFound(error, specifier)) continue;
      throw new Error(`feature package ${specifier} failed to load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    features.push(featurePluginOf(module, `feature package ${specifier}`));
  }
  return checkFeaturePlugins(features);
}
