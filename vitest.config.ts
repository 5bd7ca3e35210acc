import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite instances are large; keep workers few on a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
    // Browser steps wait for what a page shows; under a full run on 2 cores that can take seconds.
    expect: { poll: { timeout: 10_000, interval: 100 } },
  },
});
