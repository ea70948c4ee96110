import { defineProject } from 'vitest/config';
import pkg from './package.json' with { type: 'json' };

export default defineProject({
  resolve: { conditions: ['@pagewalk/source'] },
  ssr: { resolve: { conditions: ['@pagewalk/source'] } },
  test: {
    name: pkg.name,
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
