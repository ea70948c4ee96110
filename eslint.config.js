// Root lint config. Its main job is the mm-internal fence (STYLE.md 2.5):
// only the mm-internal feature packages may import
// '@pagewalk/core-walk/mm-internal', and nobody may reach into another
// package's src/ directly.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export const MM_INTERNAL_PACKAGES = ['guard-pages', 'uffd-wp', 'hmm-migrate'];

const fence = {
  paths: [],
  patterns: [
    {
      group: ['@pagewalk/core-walk/mm-internal', '@pagewalk/core-walk/mm-internal/**'],
      message: 'mm-internal is only for guard-pages, uffd-wp and hmm-migrate; see STYLE.md 2.5 and use the public walkPageRange.',
    },
    { group: ['@pagewalk/*/src', '@pagewalk/*/src/**'], message: 'import the package, not its src/ folder.' },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/build/**', '**/*.d.ts', '**/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-imports': ['error', fence],
      '@typescript-eslint/no-restricted-imports': 'off',
    },
  },
  {
    // The mm-internal packages (mm/madvise.c, mm/userfaultfd.c, mm/hmm.c) may
    // use the unsafe walker; they still may not reach into src/.
    files: [`packages/{${MM_INTERNAL_PACKAGES.join(',')}}/src/**`],
    rules: {
      'no-restricted-imports': ['error', { paths: [], patterns: [fence.patterns[1]] }],
    },
  },
  {
    // core-walk's own modules import each other relatively.
    files: ['packages/core-walk/src/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
