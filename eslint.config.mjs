import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The one-way chain of product folders, bottom first (docs/design.md §Layers). A folder may import its own
 * files and any folder in a lower layer; never a peer in its own layer, a higher layer, or the tools that
 * sit on top of the product (bench/, scripts/, test/, examples/ may import anything).
 */
const LAYERS = [
  ['common', 'storage'],
  ['data', 'tensor'],
  ['hardware'],
  ['search'],
  ['config'],
  ['contracts'],
  ['models'],
  ['evaluator', 'interop'],
  ['tasks', 'report'],
  ['activities'],
  ['workflows'],
  ['temporal'],
  ['client'],
  ['worker'],
];
const TOOLS = ['bench', 'scripts', 'test', 'examples'];
const MAX_FOLDER_DEPTH = 3;

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no domain libraries.
const WORKFLOW_PATTERNS = [
  {
    group: ['node:*', 'fs', 'path', 'child_process', 'os', 'crypto'],
    message: 'Workflow code must stay deterministic: no Node built-ins.',
  },
  {
    group: ['@tensorflow/*', '../models/*', '../hardware/*', '../data/*', '../tensor/*'],
    message: 'Workflows orchestrate; domain work belongs in activities.',
  },
];

/** An import specifier that climbs `depth` folders to the repository root and enters one of `folders`. */
function rootImport(depth, folders) {
  const up = depth === 0 ? '\\./' : `(\\.\\./){${depth}}`;
  return `^${up}(${folders.join('|')})(/|$)`;
}

/** One no-restricted-imports block per folder and depth: the folders it may not import, by relative path. */
function layerBlocks() {
  return LAYERS.flatMap((layer, level) =>
    layer.flatMap((folder) => {
      const above = [...layer.filter((peer) => peer !== folder), ...LAYERS.slice(level + 1).flat()];
      const depths = folder === 'worker' ? [0] : Array.from({ length: MAX_FOLDER_DEPTH }, (_, i) => i + 1);
      return depths.map((depth) => ({
        files: [depth === 0 ? `${folder}.ts` : `${folder}/${'*/'.repeat(depth - 1)}*.ts`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                ...(above.length > 0
                  ? [
                      {
                        regex: rootImport(depth, above),
                        message: `${folder}/ may import only lower layers (${LAYERS.slice(0, level).flat().join(', ') || 'none'}): this runs against the one-way chain in docs/design.md §Layers; move the code to the layer where it belongs.`,
                      },
                    ]
                  : []),
                {
                  regex: rootImport(depth, TOOLS),
                  message: `Product code never imports ${TOOLS.join('/, ')}/: move what it needs into the product.`,
                },
                ...(folder === 'workflows' ? WORKFLOW_PATTERNS : []),
              ],
            },
          ],
        },
      }));
    }),
  );
}

export default tseslint.config(
  { ignores: ['node_modules/', 'runs/', '.data/', 'build/', 'bench/results/', 'bench/peers/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Plain CommonJS launchers that must run before any dependency is installed.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layerBlocks(),
  {
    // Type-aware checks where a dropped promise loses work silently: the workflow (an un-awaited activity
    // is never waited for) and the activities and tasks behind it.
    files: ['workflows/**/*.ts', 'activities/**/*.ts', 'tasks/**/*.ts', 'worker.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
