// Lint: typescript-eslint's recommended rules over src, test and bench, plus the project's own
// rules: only the entry point may touch process.exit (it can cut off piped output), and src/
// folders import only downward (the layer table in lint/layers.js).
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';
import { layersPlugin } from './lint/layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'scripts/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only src/cli/main.ts may exit the process' }],
    },
  },
  { files: ['src/cli/main.ts'], rules: { 'no-restricted-properties': 'off' } },
  {
    files: ['src/**/*.ts'],
    plugins: { layers: layersPlugin(fileURLToPath(new URL('./src', import.meta.url))) },
    rules: { 'layers/no-upward-import': 'error' },
  },
  // The loader is CommonJS on purpose (see its header).
  { files: ['bin/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', globalThis: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
