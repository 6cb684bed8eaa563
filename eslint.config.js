// @ts-check
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/**
 * What code that runs inside the workflow sandbox (src/workflows) or that workflows import
 * (src/shared) must not reach: Node, I/O, and the SDK packages that only work outside the sandbox.
 * Types are fine (`import type`), since they vanish at run time.
 */
const SANDBOX_RESTRICTIONS = {
  paths: [
    ...['activity', 'client', 'worker', 'testing'].map((name) => ({
      name: `@temporalio/${name}`,
      message: 'Workflow code runs in a deterministic sandbox: use @temporalio/workflow (or import type).',
      allowTypeImports: true,
    })),
    { name: 'undici', message: 'No I/O in workflow code: do it in an activity.', allowTypeImports: true },
  ],
  patterns: [
    {
      group: ['node:*', ...builtinModules.filter((m) => !m.startsWith('_'))],
      message: 'No Node built-ins in workflow code: it must stay deterministic and sandboxable.',
      allowTypeImports: true,
    },
    {
      group: ['@aws-sdk/*'],
      message: 'No I/O in workflow code: do it in an activity.',
      allowTypeImports: true,
    },
    {
      group: [
        '**/activities',
        '**/activities/**',
        '**/activities.ts',
        '**/config',
        '**/config/**',
        '**/config.ts',
      ],
      message: 'Workflows reach activities through proxyActivities and never read config: import type only.',
      allowTypeImports: true,
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      '.tools/**',
      '.stack/**',
      '.demo/**',
      'node_modules/**',
      'coverage/**',
      'dist/**',
      'test/replay/histories/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', SANDBOX_RESTRICTIONS],
    },
  },
  {
    // What ships (src/) never reaches development tools (dev/), so a production install without
    // devDependencies runs. The one exception is the file that lazily loads `rdd emulator`,
    // `rdd stack` and `rdd demo`, which says plainly when dev/ is not there.
    files: ['src/**/*.ts'],
    ignores: ['src/starters/dev-commands.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/dev/**', '**/dev'],
              message:
                'src/ ships without dev/: development tools are loaded lazily by src/starters/dev-commands.ts only.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests assert on SDK and JSON values whose types are loose by nature, and pass methods to expect().
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
);
