import { createDefaultEsmPreset, type JestConfigWithTsJest } from 'ts-jest';

const preset = createDefaultEsmPreset({ tsconfig: 'tsconfig.json' });
const common = {
  ...preset,
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

const config: JestConfigWithTsJest = {
  projects: [
    // Pure code is deterministic: a unit test never retries, so a flaky one shows as a failure.
    { ...common, displayName: 'unit', roots: ['<rootDir>/test/unit'], testMatch: ['**/*.test.ts'] },
    // Real processes on a shared 2-core machine: one retry, with the first failure printed.
    { ...common, displayName: 'integration', roots: ['<rootDir>/test/integration'], testMatch: ['**/*.test.ts'], setupFilesAfterEnv: ['<rootDir>/test/helpers/retry-setup.ts'] },
  ],
  // Integration tests start real Caddy/DNS processes: keep the 2-core machine from thrashing.
  maxWorkers: 2,
  // Which Caddy the integration tests drive (CADDY_BINARY, else the newest built one): see the file.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 60_000,
};

export default config;
