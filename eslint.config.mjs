import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no domain libraries.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'child_process', 'os', 'crypto'],
              message: 'Workflow code must stay deterministic: no Node built-ins.',
            },
            {
              group: ['@tensorflow/*', '../models/*', '../hardware/*', '../data/*', '../tensor/*'],
              message: 'Workflows orchestrate; domain work belongs in activities.',
            },
          ],
        },
      ],
    },
  },
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
