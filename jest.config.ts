/** @jest-config-loader-options {"transpileOnly": true, "compilerOptions": {"module": "commonjs", "moduleResolution": "bundler"}} */
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: {
    '^#libs/([^/]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts', '<rootDir>/{apps,libs}/**/*.e2e-spec.ts'],
  testTimeout: 30_000,
  // a machine without Postgres or Redis running gets private ones for the run (test/setup)
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // two cores: more workers only contend for Postgres
  maxWorkers: 2,
  // ESM test files leave their module graphs behind in a worker (3 GB and more after a hundred suites,
  // with the collector then taking most of the CPU): a worker past this is replaced between files
  workerIdleMemoryLimit: '1200MB',
};

export default config;
