import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainedWorkspace, type Workspace } from '../registry/testing/project.ts';
import { SqliteLog } from '../log/sqlite.ts';
import type { Pin, PredictionRecord } from '../log/store.ts';
import { pinml, pinmlOk } from '../testing/run-cli.ts';

const CLASSES = ['setosa', 'versicolor', 'virginica'];
const HOUR = 3_600_000;
let ws: Workspace;
let dir: string;

/** `n` rows of iris@version as `pin`, `hoursAgo`, labelled; the first `correct` answered right. */
function rows(version: number, pin: Pin, n: number, correct: number, hoursAgo: number) {
  const now = Date.now();
  const out: { row: PredictionRecord; label: string }[] = [];
  for (let k = 0; k < n; k++) {
    const label = CLASSES[k % 3] as string;
    out.push({
      label,
      row: {
        id: `${pin}${version}-${hoursAgo}-${k}`,
        time: now - hoursAgo * HOUR - k,
        model: 'iris',
        version,
        commit: 'c'.repeat(40),
        pin,
        inputs: [5.1, 3.5, 1.4, 0.2],
        class: k < correct ? label : (CLASSES[(k + 1) % 3] as string),
        probabilities: [0.4, 0.3, 0.3],
        latencyMs: 1,
        sampleRate: 1,
      },
    });
  }
  return out;
}

beforeAll(async () => {
  const { ws: made, runs } = await createTrainedWorkspace('compare-live', ['forest-a', 'forest-b']);
  ws = made;
  dir = await ws.project();
  for (const run of runs) await pinmlOk(dir, 'register', run);
  await pinmlOk(dir, 'promote', 'iris@1', '--merge');
  await pinmlOk(dir, 'canary', 'iris@2', '--weight', '0.2', '--merge');
  const store = new SqliteLog(path.join(dir, '.pinml', 'serve', 'predictions.db'));
  const logged = [
    // In the last day: production right on 194 of 200, the canary on 160 of 200.
    ...rows(1, 'production', 200, 194, 1),
    ...rows(2, 'canary', 200, 160, 1),
    // Three days ago the canary was right on every row: outside the default window.
    ...rows(2, 'canary', 1000, 1000, 72),
  ];
  const sig = (version: number) => ({
    model: 'iris',
    version,
    features: ['a', 'b', 'c', 'd'],
    classes: CLASSES,
  });
  await store.append(
    logged.map((l) => l.row),
    [sig(1), sig(2)],
  );
  await store.appendFeedback(
    logged.map((l) => ({ id: l.row.id, label: l.label, model: 'iris', time: l.row.time + 1 })),
  );
  await store.close();
});

afterAll(async () => {
  await ws?.remove();
});

describe('pinml compare --live', () => {
  it("prints production's verdict and the canary's decision on the window's labelled rows", async () => {
    const { stdout } = await pinmlOk(dir, 'compare', '--live', 'iris');
    expect(stdout).toContain('## Healthy: iris@1 in production');
    expect(stdout).toContain('## Remove the canary: iris@2 at 20% of traffic');
    expect(stdout).toContain('| production | iris@1 | 200 | 194 | 0.970 |');
    expect(stdout).toContain('| canary | iris@2 | 200 | 160 | 0.800 |');
    expect(stdout).toContain('see it again with `pinml compare --live iris --since 24h`');
  });

  it('takes the window from --since, and prints JSON with --json', async () => {
    const { stdout } = await pinmlOk(dir, 'compare', '--live', 'iris', '--since', '7d', '--json');
    const report = JSON.parse(stdout) as {
      window: string;
      canary: { canary: { rows: number; correct: number }; decision: { action: string } };
    };
    expect(report.window).toBe('7d');
    expect(report.canary.canary).toMatchObject({ rows: 1200, correct: 1160 });
    expect(report.canary.decision.action).toBe('watch');
  });

  it('judges the canary over monitor.canary.window, production over monitor.rollback.window', async () => {
    const file = path.join(dir, 'pinml.yaml');
    const config = await readFile(file, 'utf8');
    await writeFile(
      file,
      config.replace(/^(\s+)gate:/m, '$1monitor: { canary: { window: 7d } }\n$1gate:'),
    );
    await ws.git(dir, 'commit', '--quiet', '-am', 'Judge canaries over a week');
    const { stdout } = await pinmlOk(dir, 'compare', '--live', 'iris');
    expect(stdout).toContain('### Live quality, last 24h');
    expect(stdout).toContain('### Canary against production, last 7d');
    expect(stdout).toContain('| canary | iris@2 | 1200 | 1160 |');
    expect(stdout).toContain('see it again with `pinml compare --live iris`.');
  });

  it('says what is wrong with its arguments', async () => {
    const version = await pinml(dir, 'compare', '--live', 'iris@2');
    expect(version.code).toBe(2);
    expect(version.stderr).toMatch(/--live takes a model, not a version \(got iris@2\)/);
    const since = await pinml(dir, 'compare', '--live', 'iris', '--since', 'yesterday');
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since/);
    const folder = await pinml(dir, 'compare', 'some-run', '--live', 'iris');
    expect(folder.stderr).toMatch(/give no run folder \(got some-run\)/);
    const alone = await pinml(dir, 'compare', '--since', '24h');
    expect(alone.stderr).toMatch(/--since goes with --live MODEL/);
  });
});
