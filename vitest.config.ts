import { defineConfig } from 'vitest/config';

// Unit tests live beside the code; Playwright specs (e2e/) are run by playwright, not vitest.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'server/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
