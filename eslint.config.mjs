// Lint encodes the conventions (CONVENTIONS.md "Habits"): promises are handled, switches exhaustive,
// process.env read only by the config module, libs used only through their index, no focused tests.
import js from '@eslint/js';
import jest from 'eslint-plugin-jest';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read settings through AppConfig (libs/core/src/config).' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@switchyard/*/*'], message: 'Import a lib only through its index (@switchyard/<lib>).' },
            { group: ['**/apps/**', '../../apps/*'], message: 'A lib never imports an app.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'max-lines': ['warn', { max: 400, skipBlankLines: true, skipComments: true }] },
  },
  {
    // the config module, entry points, tools and tests are where the environment is read on purpose
    files: ['libs/core/src/config/**', 'apps/main.ts', 'apps/switchyard.ts', 'tools/**', 'test/**', '**/*.spec.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    plugins: { jest },
    languageOptions: { globals: { ...globals.jest } },
    rules: {
      ...jest.configs.recommended.rules,
      'jest/no-focused-tests': 'error',
      'jest/expect-expect': 'off',
      // shared assertion helpers and per-kind branches are deliberate in these suites
      'jest/no-standalone-expect': 'off',
      'jest/no-conditional-expect': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
