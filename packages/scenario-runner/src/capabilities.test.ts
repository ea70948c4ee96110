import { describe, expect, it } from 'vitest';
import { MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MadviseBehaviorToken, type MadviseBehavior } from '@pagewalk/core-walk';
import { parseScenarioValue } from '@pagewalk/scenario';
import {
  FeaturePluginError,
  coreAdviceNames,
  createScenarioSession,
  describeMissing,
  featureAdvice,
  featureOps,
  featurePluginOf,
  missingCapabilities,
  scenarioFeatureOf,
  usesAnyOp,
  type ScenarioFeature,
  type ScenarioOpHandler,
} from './index.js';

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
const fakeGuards: ScenarioFeature = {
  name: 'fake-guards',
  summary: 'fake guard advice',
  advice: ['guard_install', 'guard_remove'],
  install(container) {
    for (const advice of [MADV_GUARD_INSTALL, MADV_GUARD_REMOVE]) {
      const behavior: MadviseBehavior = { advice, name: `guard-${advice}`, applyToVma: () => 0 };
      container.register(MadviseBehaviorToken, { useValue: behavior });
    }
  },
};

const pagemapHandler: ScenarioOpHandler = (op) => ({ op: op.op, ret: 0, entries: [] });
const pagemap: ScenarioFeature = { name: 'fake-pagemap', summary: 'fake pagemap', install: () => undefined, ops: { pagemap: pagemapHandler } };

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
    expect(missingCapabilities(scenario, [pagemap]).map((entry) => entry.need)).toEqual(['madvise guard_install']);
    expect(missingCapabilities(scenario, [pagemap, fakeGuards])).toEqual([]);
  });

  it('usesAnyOp', () => {
    expect(usesAnyOp(scenario, ['scan', 'pagemap'])).toBe(true);
    expect(usesAnyOp(scenario, ['uffd_open'])).toBe(false);
  });
});

describe('coreAdviceNames', () => {
  it('is every advice of the format but the ones a feature adds, asked of a kernel without features', () => {
    expect([...coreAdviceNames()]).not.toContain('guard_install');
    expect([...coreAdviceNames()]).not.toContain('guard_remove');
    expect([...coreAdviceNames()]).toContain('dontneed');
    expect([...coreAdviceNames()]).toContain('collapse');
  });
});

describe('feature plugins', () => {
  it('featurePluginOf takes a module\'s plugin export, and scenarioFeatureOf is its deprecated name', () => {
    expect(featurePluginOf({ plugin: pagemap, PAGE: 4096 }, 'fake')).toBe(pagemap);
    expect(scenarioFeatureOf('fake', { plugin: pagemap })).toBe(pagemap);
  });

  it('a module without a plugin is an error that names it', () => {
    expect(() => featurePluginOf({ scenarioOps: {} }, '@pagewalk/fake')).toThrow(/@pagewalk\/fake exports no feature plugin/);
    expect(() => featurePluginOf({ plugin: { name: 'x' } }, '@pagewalk/fake')).toThrow(FeaturePluginError);
  });

  it('derives the op and advice names from the features', () => {
    expect(featureOps([pagemap, fakeGuards])).toEqual(['pagemap']);
    expect(featureAdvice([pagemap, fakeGuards])).toEqual(['guard_install', 'guard_remove']);
  });

  it('rejects two features claiming one op, naming both', () => {
    const other: ScenarioFeature = { ...pagemap, name: 'other-pagemap' };
    expect(() => createScenarioSession({ arena_pages: 1 }, { features: [pagemap, other] })).toThrow(
      new FeaturePluginError('scenario op "pagemap" is claimed by two features: "fake-pagemap" and "other-pagemap"'),
    );
  });

  it('rejects a feature claiming a core op, an op or advice the format lacks, or one loaded twice', () => {
    const session = (features: ScenarioFeature[]) => () => createScenarioSession({ arena_pages: 1 }, { features });
    expect(session([{ ...pagemap, ops: { mmap: pagemapHandler } }])).toThrow('feature "fake-pagemap" claims scenario op "mmap", which the core handles');
    expect(session([{ ...pagemap, ops: { frobnicate: pagemapHandler } as ScenarioFeature['ops'] }])).toThrow('claims scenario op "frobnicate", which SCENARIO.md does not define');
    expect(session([pagemap, pagemap])).toThrow('feature "fake-pagemap" is loaded twice');
    expect(session([fakeGuards, { ...fakeGuards, name: 'more-guards', install: () => undefined }])).toThrow(
      'madvise advice "guard_install" is claimed by two features: "fake-guards" and "more-guards"',
    );
  });

  it('rejects advice a feature declares but does not register', () => {
    const liar: ScenarioFeature = { ...pagemap, advice: ['guard_remove'] };
    expect(() => createScenarioSession({ arena_pages: 1 }, { features: [liar] })).toThrow(
      'feature "fake-pagemap" declares madvise advice "guard_remove" but its install() registers no madvise behaviour for it',
    );
  });
});
