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

// Table, frame and VMA writes (issue 13; docs/ARCHITECTURE.md, "The mm-internal
// boundary"). Outside core-walk and the mm packages, code reads the pools and
// VMAs and changes them only through system calls. TypeScript already rejects
// these writes (the public types are read-only); this rule also catches plain
// JavaScript and casts. Selectors match by shape, not by type.
const WRITE_MESSAGE = 'mm-boundary: only core-walk, guard-pages, uffd-wp and hmm-migrate write page tables, frames or VMAs; use the system calls (tests may plant a PTE with plantPteForTest from @pagewalk/core-walk/testing).';
const POOL_ARRAY = '/^(entries|refcount|mapcount|flags)$/';
const POOL_OWNER = '/^(tables|frames)$/';
const writeTargets = [
  // kernel.tables.entries[i] = …, kernel.frames.refcount[i] += …, and the same through a local `tables` / `frames`.
  `MemberExpression[computed=true][object.type='MemberExpression'][object.property.name=${POOL_ARRAY}][object.object.property.name=${POOL_OWNER}]`,
  `MemberExpression[computed=true][object.type='MemberExpression'][object.property.name=${POOL_ARRAY}][object.object.name=${POOL_OWNER}]`,
  // vma.flags = …, mm.vmas.lookup(a)!.flags |= …
  "MemberExpression[object.name=/[vV]ma$/][property.name=/^(start|end|flags|pgoff|anonVma|userfaultfdCtx|mm)$/]",
  "MemberExpression[object.type='TSNonNullExpression'][object.expression.callee.property.name=/^(lookup|find|findIntersection|prevOf|nextOf)$/][property.name=/^(start|end|flags|pgoff|anonVma|userfaultfdCtx|mm)$/]",
  "MemberExpression[object.type='CallExpression'][object.callee.property.name=/^(lookup|find|findIntersection|prevOf|nextOf)$/][property.name=/^(start|end|flags|pgoff|anonVma|userfaultfdCtx|mm)$/]",
];
export const MM_WRITE_RULE = [
  ...writeTargets.flatMap((target) => [
    { selector: `AssignmentExpression > ${target}.left`, message: WRITE_MESSAGE },
    { selector: `UpdateExpression > ${target}.argument`, message: WRITE_MESSAGE },
  ]),
  // Typed-array writers on a pool view: kernel.tables.entries.fill(…), .set(…), .copyWithin(…)
  { selector: `CallExpression[callee.property.name=/^(fill|set|copyWithin|sort|reverse)$/][callee.object.property.name=${POOL_ARRAY}][callee.object.object.property.name=${POOL_OWNER}]`, message: WRITE_MESSAGE },
  // Pool, page-contents and VMA-list writers.
  { selector: `CallExpression[callee.object.property.name=${POOL_OWNER}][callee.property.name=/^(alloc|release|get|put|set|clear|splitFolio|hugeZeroPfn)$/]`, message: WRITE_MESSAGE },
  { selector: "CallExpression[callee.object.property.name='contents'][callee.property.name=/^(writeByte|view|clear|copyFrom)$/]", message: WRITE_MESSAGE },
  { selector: "CallExpression[callee.object.property.name='vmas'][callee.property.name=/^(insert|remove|splitRange|splitAt|mergeAround)$/]", message: WRITE_MESSAGE },
  // The old public writers of Mm, and table-allocating lookups.
  { selector: "CallExpression[callee.property.name=/^(allocTableAt|anonVmaPrepare|unmapRegion)$/]", message: WRITE_MESSAGE },
  // (splitHugePmd on an mm; the UffdWpRange token's own splitHugePmd is uffd-wp's.)
  { selector: "CallExpression[callee.property.name='splitHugePmd'][callee.object.name=/[mM]m$/]", message: WRITE_MESSAGE },
  { selector: "CallExpression[callee.property.name='splitHugePmd'][callee.object.property.name=/[mM]m$/]", message: WRITE_MESSAGE },
  { selector: "CallExpression[callee.property.name=/^(pteSlot|pmdSlot|pudSlot)$/][arguments.1.type!='Literal']", message: WRITE_MESSAGE },
  { selector: "CallExpression[callee.property.name=/^(pteSlot|pmdSlot|pudSlot)$/] > Literal.arguments[value=true]", message: WRITE_MESSAGE },
  // The writable pools and VMA list hang off symbol keys: no reaching for them.
  { selector: "CallExpression[callee.property.name=/^(getOwnPropertySymbols|ownKeys)$/]", message: WRITE_MESSAGE },
];
/** Packages that may write tables, frames and VMAs (core-walk owns them). */
export const MM_WRITER_PACKAGES = ['core-walk', ...MM_INTERNAL_PACKAGES];
const outsideMm = MM_WRITER_PACKAGES.map((dir) => `packages/${dir}/**`);
const TEST_FILES = ['**/*.test.ts', '**/*.test-d.ts', '**/*.test.tsx'];

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
    // Outside the mm packages: no table, frame or VMA writes (shipped code and examples)…
    files: ['packages/*/**/*.{ts,tsx,js,mjs}'],
    ignores: [...outsideMm, ...TEST_FILES],
    rules: { 'no-restricted-syntax': [...POOL_VIEW_RULE, ...MM_WRITE_RULE] },
  },
  {
    // …nor in their tests, which plant entries with plantPteForTest instead.
    files: TEST_FILES.map((glob) => `packages/*/${glob}`),
    ignores: outsideMm,
    rules: { 'no-restricted-syntax': ['error', ...MM_WRITE_RULE] },
  },
  {
    // plantPteForTest is for tests only.
    files: ['packages/*/**/*.{ts,tsx,js,mjs}'],
    ignores: [...TEST_FILES, 'packages/core-walk/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...fence,
          paths: [{ name: '@pagewalk/core-walk/testing', importNames: ['plantPteForTest'], message: 'plantPteForTest is for tests only.' }],
        },
      ],
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
