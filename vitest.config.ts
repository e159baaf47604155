import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Vite's own warnings (sourcemaps of inlined dependencies) are noise in test output.
  logLevel: 'error',
  test: {
    include: ['pipeline/**/*.test.ts', 'serve/**/*.test.ts', 'actions/**/*.test.ts'],
    // Installs Node 24 for the node24 tests once (pipeline/testing/global-setup.ts).
    globalSetup: ['pipeline/testing/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // GitHub's workflow parser imports JSON without import attributes, which Node refuses;
    // inlined, Vite transforms those imports.
    server: { deps: { inline: ['@actions/workflow-parser', '@actions/expressions'] } },
  },
});
