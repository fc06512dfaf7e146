import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // Never reach into a library's private fields: sonic-boom (under pino-roll) keeps its state in
    // `_`-prefixed ones. Also pinned by packages/logger/test/private-fields.test.ts.
    files: ['packages/logger/src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'MemberExpression[property.name=/^_/]', message: 'A `_`-prefixed field is private to its library: use its public API.' },
        { selector: 'MemberExpression[computed=true][property.value=/^_/]', message: 'A `_`-prefixed field is private to its library: use its public API.' },
      ],
    },
  },
  {
    files: ['**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
