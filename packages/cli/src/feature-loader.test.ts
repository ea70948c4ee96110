import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FeaturePluginError, featureAdvice, featureOps } from '@pagewalk/scenario-runner';
import { featurePackageNames, loadScenarioFeatures } from './feature-loader.js';
import { runCli, temporaryDirectory, writeFiles } from './test-support.js';

/** A directory with a package.json whose dependencies are the given packages, installed in its node_modules. */
function projectWith(packages: Record<string, { keywords: string[]; source: string }>): string {
  const root = temporaryDirectory();
  const dependencies = Object.fromEntries(Object.keys(packages).map((name) => [name, '1.0.0']));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'host', dependencies }));
  for (const [name, { keywords, source }] of Object.entries(packages)) {
    const directory = join(root, 'node_modules', name);
    mkdirSync(directory, { recursive: true });
    const manifest = { name, version: '1.0.0', type: 'module', keywords, exports: { '.': './index.js', './package.json': './package.json' } };
    writeFileSync(join(directory, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(directory, 'index.js'), source);
  }
  return join(root, 'package.json');
}

/** A feature module whose plugin answers `op` with ret 7. */
const fakeFeature = (name: string, op: string) =>
  `export const plugin = { name: '${name}', summary: 'a fake', install() {}, ops: { ${op}: (op) => ({ op: op.op, ret: 7 }) } };\n`;

/** The file URL of each package a manifest declares as a feature (a test cannot import them by name from here). */
function featureUrls(manifest: string): string[] {
  const resolve = createRequire(manifest).resolve;
  return featurePackageNames(manifest).map((name) => pathToFileURL(resolve(name)).href);
}

describe('feature packages are found, not listed', () => {
  it('the CLI finds its feature packages by their keyword, and their ops and advice from their plugins', async () => {
    expect(featurePackageNames()).toEqual(['@pagewalk/guard-pages', '@pagewalk/hmm-migrate', '@pagewalk/pagemap-scan', '@pagewalk/uffd-wp']);
    const features = await loadScenarioFeatures();
    expect(features.map((feature) => feature.name)).toEqual(['guard-pages', 'hmm-migrate', 'pagemap-scan', 'uffd-wp']);
    expect(featureOps(features).sort()).toEqual(
      ['dev_migrate', 'dev_migrate_back', 'dev_read', 'dev_snapshot', 'dev_write', 'pagemap', 'scan', 'uffd_open', 'uffd_register', 'uffd_unregister', 'uffd_wp'].sort(),
    );
    expect(featureAdvice(features)).toEqual(['guard_install', 'guard_remove']);
  });

  it('a new feature package\'s op runs without any edit of the CLI', async () => {
    const manifest = projectWith({
      'fake-pagemap': { keywords: ['pagewalk-feature'], source: fakeFeature('fake-pagemap', 'pagemap') },
      'not-a-feature': { keywords: [], source: 'export const plugin = null;\n' },
    });
    expect(featurePackageNames(manifest)).toEqual(['fake-pagemap']);
    const features = await loadScenarioFeatures(featureUrls(manifest));
    expect(featureOps(features)).toEqual(['pagemap']);
    const directory = writeFiles({ 'p.json': { name: 'p', arena_pages: 4, ops: [{ op: 'pagemap', page: 0, pages: 1 }] } });
    const run = await runCli(['run', join(directory, 'p.json')], { features });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).results).toEqual([{ op: 'pagemap', ret: 7 }]);
  });

  it('two features claiming one op name is an error naming both', async () => {
    const manifest = projectWith({
      'first-scan': { keywords: ['pagewalk-feature'], source: fakeFeature('first-scan', 'scan') },
      'second-scan': { keywords: ['pagewalk-feature'], source: fakeFeature('second-scan', 'scan') },
    });
    await expect(loadScenarioFeatures(featureUrls(manifest))).rejects.toThrow(
      new FeaturePluginError('scenario op "scan" is claimed by two features: "first-scan" and "second-scan"'),
    );
  });

  it('a feature package without a plugin is an error naming it', async () => {
    const manifest = projectWith({ 'no-plugin': { keywords: ['pagewalk-feature'], source: 'export const scenarioOps = {};\n' } });
    const [url] = featureUrls(manifest);
    await expect(loadScenarioFeatures([url!])).rejects.toThrow(`feature package ${url} exports no feature plugin`);
  });

  it('an absent package is left out', async () => {
    expect(await loadScenarioFeatures(['@pagewalk/not-installed-anywhere'])).toEqual([]);
  });
});
