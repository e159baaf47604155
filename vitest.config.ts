import { defineConfig } from 'vitest/config';

/**
 * The unit project: pure logic, no sockets, child processes, threads or timers (time is
 * injected), under a minute (`npm run test:unit`). `pipeline/test-projects.test.ts` checks that
 * every file listed here stays so. Everything else is `e2e` (real git, HTTP servers on loopback,
 * child processes, Node 24); `system` is for tests that need a Debian service (PostgreSQL,
 * Prometheus, Chromium, podman): outside CI a missing binary skips them with one line, under
 * `CI=true` it fails.
 */
export const UNIT = [
  'pipeline/workflow-paths.test.ts',
  'actions/common/annotations.test.ts',
  'actions/testing/chapters.test.ts',
  'actions/testing/concurrency.test.ts',
  'actions/testing/harness.test.ts',
  'pipeline/compare.test.ts',
  'pipeline/config.test.ts',
  'pipeline/dataset.test.ts',
  'pipeline/demo/jittered-rows.test.ts',
  'pipeline/drift/bins.test.ts',
  'pipeline/drift/drift.test.ts',
  'pipeline/drift/profile.test.ts',
  'pipeline/drift/profile-psi.test.ts',
  'pipeline/drift/stats.test.ts',
  'pipeline/drift/render-html.test.ts',
  'pipeline/drift/render.test.ts',
  'pipeline/drift/issue.test.ts',
  'pipeline/feedback/rows.test.ts',
  'pipeline/gate.test.ts',
  'pipeline/git/remote-errors.test.ts',
  'pipeline/log/logs-client.test.ts',
  'pipeline/live/judge.test.ts',
  'pipeline/live/tests.test.ts',
  'pipeline/log/quality.test.ts',
  'pipeline/metrics.test.ts',
  'pipeline/models/family.test.ts',
  'pipeline/models/index.test.ts',
  'pipeline/models/legacy.test.ts',
  'pipeline/models/logistic-regression.test.ts',
  'pipeline/models/ml-logistic-regression.test.ts',
  'pipeline/models/ml-random-forest.test.ts',
  'pipeline/models/params.test.ts',
  'pipeline/models/predictor.test.ts',
  'pipeline/registry/roles.test.ts',
  'pipeline/registry/schema.test.ts',
  'pipeline/report.test.ts',
  'pipeline/pr-report.test.ts',
  'pipeline/registry/gto.test.ts',
  'pipeline/split.test.ts',
  'pipeline/stats.test.ts',
  'pipeline/workspace.test.ts',
  'pipeline/test-projects.test.ts',
  'serve/answer/answer.test.ts',
  'serve/answer/arm.test.ts',
  'serve/app.test.ts',
  'serve/http/body.test.ts',
  'serve/http/options.test.ts',
  'serve/metrics.test.ts',
  'serve/monitoring/monitoring.test.ts',
  'serve/routes/docs.test.ts',
  'serve/routes/health.test.ts',
  'serve/routes/kserve.test.ts',
  'serve/routes/metrics.test.ts',
  'serve/routes/mlflow.test.ts',
  'serve/routes/models.test.ts',
  'serve/routes/oip.test.ts',
  'serve/routes/predict.test.ts',
  'serve/routes/roles.test.ts',
  'serve/routes/webhook.test.ts',
];
const ALL = ['pipeline/**/*.test.ts', 'serve/**/*.test.ts', 'actions/**/*.test.ts'];
const SYSTEM = ['**/*.system.test.ts'];

const shared = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // GitHub's workflow parser imports JSON without import attributes, which Node refuses;
  // inlined, Vite transforms those imports.
  server: { deps: { inline: ['@actions/workflow-parser', '@actions/expressions'] } },
};

export default defineConfig({
  // Vite's own warnings (sourcemaps of inlined dependencies) are noise in test output.
  logLevel: 'error',
  test: {
    projects: [
      { logLevel: 'error', test: { ...shared, name: 'unit', include: UNIT } },
      {
        logLevel: 'error',
        test: {
          ...shared,
          name: 'e2e',
          include: ALL,
          exclude: [...UNIT, ...SYSTEM, '**/node_modules/**'],
          // Builds the server's bundle and installs Node 24 for the node24 tests, once
          // (pipeline/testing/global-setup.ts).
          globalSetup: ['pipeline/testing/global-setup.ts'],
        },
      },
      {
        logLevel: 'error',
        test: {
          ...shared,
          name: 'system',
          include: SYSTEM,
          globalSetup: ['pipeline/testing/global-setup.ts'],
        },
      },
    ],
  },
});
