import { describe, expect, it } from 'vitest';
import { runDirtyTracker } from '../examples/dirty-tracker.js';

describe('README example: dirty-page tracker', () => {
  it('copies exactly the pages written in each round, and the copy matches byte for byte', () => {
    const reports = runDirtyTracker(32, 6, 7);
    expect(reports).toHaveLength(6);
    for (const report of reports) {
      expect(report.copied).toEqual(report.written);
      expect(report.copied.length).toBeGreaterThan(0);
      expect(report.copied.length).toBeLessThan(32);
    }
  });
});
