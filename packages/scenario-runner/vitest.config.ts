import { defineProject } from 'vitest/config';
import pkg from './package.json' with { type: 'json' };

export default defineProject({
  // Workspace packages resolve to their src/ through the custom condition; the
  // ssr entry is what vitest's node environment uses.
  resolve: { conditions: ['@pagewalk/source'] },
  ssr: { resolve: { conditions: ['@pagewalk/source'] } },
  test: {
    name: pkg.name,
    include: ['src/**/*.test.ts'],
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
  },
});
