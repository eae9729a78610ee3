// Three projects: fast pure unit tests beside the code, medium tests (one service on real Postgres and
// Redis), and e2e tests (the whole app, the demo upstream, the official SDKs as clients).
const libs = [
  'core',
  'tenancy',
  'auth',
  'catalog',
  'providers',
  'routing',
  'completions',
  'embeddings',
  'wallets',
  'allowlists',
  'limits',
  'usage',
];
const moduleNameMapper = Object.fromEntries(libs.map((l) => [`^@switchyard/${l}$`, `<rootDir>/libs/${l}/src`]));
moduleNameMapper['^@switchyard/pipeline$'] = '<rootDir>/libs/pipeline/src';

const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
    swcrc: false,
  },
];
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  moduleNameMapper,
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'medium',
      testMatch: ['<rootDir>/test/medium/**/*.medium-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
