import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['pipeline/**/*.test.ts', 'serve/**/*.test.ts', 'actions/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
