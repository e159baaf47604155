/**
 * `pinml-serve` in a child process, as `npm start` runs it (the bundle `npm run build:serve`
 * writes, built by the tests' global setup into {@link serverBundleDir}; configured by environment), on a chosen Node runtime, with its JSON log lines collected. Test
 * helper only: product code never imports it. It lives in pipeline/testing, below the server and
 * the actions, so the server's tests and the workflow tests that need a real server share it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { repoRoot, type Runtime } from './runtimes.ts';
import { waitFor } from './wait.ts';

/**
 * Where the tests' global setup writes the server's bundle: inside the repository, so the
 * packages it imports resolve from its `node_modules` as they do beside `serve/dist/`.
 */
export const serverBundleDir = join(repoRoot, '.pinml', 'serve-dist');

export interface ServeProcess {
  url: string;
  /** Its data folder (the prediction log is \`predictions.db\` in it). */
  dataDir: string;
  child: ChildProcess;
  /** Every log line so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resident memory now (VmRSS), in bytes. */
  rss(): Promise<number>;
  kill(): void;
}

/** Starts the server and waits until it is ready. */
export async function startServe(
  runtime: Runtime,
  env: Record<string, string>,
): Promise<ServeProcess> {
  const ours = env.PINML_DATA_DIR === undefined;
  const dataDir = env.PINML_DATA_DIR ?? (await mkdtemp(join(tmpdir(), 'pinml-serve-data-')));
  const child = spawn(runtime.binary(), [join(serverBundleDir, 'pinml-serve.js')], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', PINML_HOST: '127.0.0.1', PINML_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // A data folder made here goes with the process.
  if (ours) void exited.then(() => rm(dataDir, { recursive: true, force: true }));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`pinml-serve exited with ${code}`)));
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      const msg = typeof entry.msg === 'string' ? entry.msg : '';
      if (typeof entry.port === 'number' && msg.startsWith('listening')) resolve(entry.port);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('readiness', async () =>
    (await fetch(`${url}/ready`)).status === 200 ? true : undefined,
  );
  return {
    url,
    dataDir,
    child,
    logs,
    exited,
    async rss() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
