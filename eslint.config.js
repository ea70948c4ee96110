// Root lint config. Its main job is the mm-internal fence (docs/ARCHITECTURE.md, "The mm-internal boundary"):
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
      message: 'mm-internal is only for guard-pages, uffd-wp and hmm-migrate; see docs/ARCHITECTURE.md and use the public walkPageRange.',
    },
    { group: ['@pagewalk/*/src', '@pagewalk/*/src/**'], message: 'import the package, not its src/ folder.' },
  ],
};

// Pool views (issue 19). The page-table pool's `entries` and the frame
// pool's `refcount` / `mapcount` / `flags` are typed arrays that a pool
// REPLACES when it grows (any table or frame allocation: a fault, a split,
// pmdSlot/pteSlot with alloc). A view kept in a variable or a property
// across such a call keeps writing into the dead array. So a view is read
// at its point of use (`tables.entries[slot]`), never bound to a name;
// the few hot loops that must bind one carry an eslint-disable line with
// the reason no allocation can happen before its last use.
const POOL_VIEW = '/^(entries|refcount|mapcount)$/';
const poolViewMessage =
  'do not keep a pool view (tables.entries, frames.refcount/mapcount/flags): growth replaces the array. Read it at its point of use, or justify with an eslint-disable line that nothing allocates before the last use (issue 19).';
export const POOL_VIEW_RULE = [
  'error',
  { selector: `VariableDeclarator > MemberExpression.init[property.name=${POOL_VIEW}]`, message: poolViewMessage },
  { selector: "VariableDeclarator > MemberExpression.init[object.property.name='frames'][property.name='flags']", message: poolViewMessage },
  { selector: "VariableDeclarator > MemberExpression.init[object.name='frames'][property.name='flags']", message: poolViewMessage },
  { selector: `VariableDeclarator > ObjectPattern.id > Property[key.name=${POOL_VIEW}]`, message: poolViewMessage },
  { selector: `AssignmentExpression[left.type='Identifier'] > MemberExpression.right[property.name=${POOL_VIEW}]`, message: poolViewMessage },
  { selector: `PropertyDefinition > MemberExpression.value[property.name=${POOL_VIEW}]`, message: poolViewMessage },
];

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
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test-d.ts'],
    rules: { 'no-restricted-syntax': POOL_VIEW_RULE },
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
