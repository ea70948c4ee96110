// The one vitest project config every package extends: its vitest.config.ts
// calls packageProject(name, overrides) with only what differs.
import { defineProject, mergeConfig, type UserWorkspaceConfig } from 'vitest/config';

/** What every package's tests share. */
export const sharedProject: UserWorkspaceConfig = defineProject({
  // Workspace packages resolve to their src/ through the custom condition;
  // the ssr entry is what vitest's node environment uses.
  resolve: { conditions: ['@pagewalk/source'] },
  ssr: { resolve: { conditions: ['@pagewalk/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
  },
});

/** A package's project: the shared config, its name, and its own overrides. */
export function packageProject(name: string, overrides: UserWorkspaceConfig = {}): UserWorkspaceConfig {
  return mergeConfig(mergeConfig(sharedProject, { test: { name } }), overrides);
}
