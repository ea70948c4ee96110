import { describe, expect, it } from 'vitest';
import * as root from './index.js';

describe('subpath exports', () => {
  it('@pagewalk/core-walk/pgtable and /swapops are the bit-layout modules', async () => {
    const pgtable = (await import('@pagewalk/core-walk/pgtable')) as Record<string, unknown>;
    const swapops = (await import('@pagewalk/core-walk/swapops')) as Record<string, unknown>;
    expect(pgtable.mkPte).toBe(root.mkPte);
    expect(pgtable.PTE_PRESENT).toBe(root.PTE_PRESENT);
    expect(swapops.makeGuardPte).toBe(root.makeGuardPte);
    expect(typeof swapops.isSwapPte).toBe('function');
  });
});
