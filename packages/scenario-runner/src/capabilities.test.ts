import { describe, expect, it } from 'vitest';
import { MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MadviseBehaviorToken, type Feature, type MadviseBehavior } from '@pagewalk/core-walk';
import { parseScenarioValue } from '@pagewalk/scenario';
import { describeMissing, missingCapabilities, scenarioFeatureOf, usesAnyOp, type ScenarioFeature } from './index.js';

const scenario = parseScenarioValue(
  {
    name: 'needs-features',
    arena_pages: 8,
    ops: [
      { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
      { op: 'madvise', page: 0, pages: 1, advice: 'guard_install' },
      { op: 'pagemap', page: 0, pages: 4 },
      { op: 'madvise', page: 0, pages: 1, advice: 'dontneed' },
      { op: 'pagemap', page: 0, pages: 4 },
    ],
  },
  'needs-features.json',
);

/** A stand-in guard plugin: registers behaviours for both guard advices. */
const fakeGuards: Feature = {
  name: 'fake-guards',
  install(container) {
    for (const advice of [MADV_GUARD_INSTALL, MADV_GUARD_REMOVE]) {
      const behavior: MadviseBehavior = { advice, name: `guard-${advice}`, applyToVma: () => 0 };
      container.register(MadviseBehaviorToken, { useValue: behavior });
    }
  },
};

describe('missingCapabilities', () => {
  it('lists ops without a handler and guard advice without a behaviour, in order', () => {
    const missing = missingCapabilities(scenario, []);
    expect(missing).toEqual([
      { index: 1, need: 'madvise guard_install' },
      { index: 2, need: 'pagemap' },
      { index: 4, need: 'pagemap' },
    ]);
    expect(describeMissing(missing)).toBe('madvise guard_install, pagemap');
  });

  it('is empty once features provide everything', () => {
    const pagemap: ScenarioFeature = { name: 'fake-pagemap', ops: { pagemap: (op) => ({ op: op.op, ret: 0, entries: [] }) } };
    expect(missingCapabilities(scenario, [pagemap]).map((entry) => entry.need)).toEqual(['madvise guard_install']);
    expect(missingCapabilities(scenario, [pagemap, { name: 'fake-guards', kernelFeatures: [fakeGuards] }])).toEqual([]);
  });

  it('usesAnyOp', () => {
    expect(usesAnyOp(scenario, ['scan', 'pagemap'])).toBe(true);
    expect(usesAnyOp(scenario, ['uffd_open'])).toBe(false);
  });
});

describe('scenarioFeatureOf', () => {
  it('collects scenarioOps and every exported kernel plugin, once each', () => {
    const scenarioOps = { pagemap: () => ({ op: 'pagemap' as const, ret: 0 }) };
    const feature = scenarioFeatureOf('fake', { scenarioOps, fakeGuards, alias: fakeGuards, PAGE: 4096, helper: () => 0 });
    expect(feature).toEqual({ name: 'fake', kernelFeatures: [fakeGuards], ops: scenarioOps });
  });

  it('prefers a ready scenarioFeature', () => {
    const scenarioFeature: ScenarioFeature = { name: 'ready' };
    expect(scenarioFeatureOf('fake', { scenarioFeature, fakeGuards })).toBe(scenarioFeature);
  });

  it('a module with neither export adds nothing', () => {
    expect(scenarioFeatureOf('empty', {})).toEqual({ name: 'empty', kernelFeatures: [], ops: {} });
  });
});
