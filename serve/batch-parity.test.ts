/**
 * Batch scoring answers what the server answers: `pinml predict` and `POST /predict` on a real
 * loopback socket, for the same rows and the version main pins, give every row the same class
 * and the same probabilities, to the bit (both load the version with `pipeline/registry/load.ts`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorkspace,
  trainRunFolder,
  type Workspace,
} from '../pipeline/registry/testing/project.ts';
import { IRIS_CSV } from '../pipeline/testing/iris.ts';
import { pinmlOk } from '../pipeline/testing/run-cli.ts';
import { startServer, type RunningServer } from './testing/server.ts';

let ws: Workspace;
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  ws = await createWorkspace('batch-parity');
  dir = await ws.project();
  const run = path.join(ws.root, 'run');
  await trainRunFolder(dir, run, { candidate: 'forest-b' });
  await pinmlOk(dir, 'register', run);
  await pinmlOk(dir, 'promote', 'iris@1', '--merge');
  server = await startServer({ repo: dir, pollMs: 0 });
});

afterAll(async () => {
  await server?.close();
  await ws?.remove();
});

describe('pinml predict and the server', () => {
  it('give the same class and probabilities for every row, with the version main pins', async () => {
    const [header, ...lines] = (await readFile(IRIS_CSV, 'utf8')).trimEnd().split('\n');
    const names = (header ?? '').split(',').slice(0, 4);
    const rows = lines.map((l) => l.split(',').slice(0, 4).map(Number));
    const res = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'iris',
        inputs: rows.map((r) => Object.fromEntries(names.map((n, j) => [n, r[j]]))),
      }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      version: number;
      predictions: { class: string; probabilities: Record<string, number> }[];
    };
    expect(answer.version).toBe(1);

    await writeFile(
      path.join(dir, 'rows.csv'),
      [names.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n',
    );
    const r = await pinmlOk(
      dir,
      'predict',
      'iris',
      '-i',
      'rows.csv',
      '--proba',
      '--output-format',
      'ndjson',
    );
    const batch = r.stdout
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            class: string;
            probabilities: Record<string, number>;
            version: string;
          },
      );
    expect(batch).toHaveLength(rows.length);
    expect(batch.every((b) => b.version === 'iris@1')).toBe(true);
    expect(batch.map(({ class: c, probabilities }) => ({ class: c, probabilities }))).toEqual(
      answer.predictions.map(({ class: c, probabilities }) => ({ class: c, probabilities })),
    );
  });
});
