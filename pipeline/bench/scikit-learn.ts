/**
 * scikit-learn's side of `npm run bench:train`: the peer's own script
 * (`../shared/bench/peer/train_bench_split.py`, single-threaded, with Debian's python3-sklearn)
 * run on one data set, its peak resident memory measured by /usr/bin/time when it is there.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The peer's folder: its scripts and its `data/*.{train,test}.csv` splits. */
export const peerDir = path.resolve(root, '..', 'shared', 'bench', 'peer');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/** One learner's figures on one data set. */
export interface Figures {
  fitSeconds: number;
  accuracy: number;
  artifactBytes: number;
  predictRowsPerSecond: number;
  peakMemoryMiB: number | null;
}

/** The learners the bench compares, by their `pinml.yaml` algorithm. */
export type Learner = 'random-forest' | 'logistic-regression';

/** scikit-learn's figures per learner, or why there are none. */
export interface Peer {
  available: boolean;
  reason?: string;
  results: Partial<Record<Learner, Figures>>;
}

/** scikit-learn's side on one data set, through the peer's own script. */
export async function peer(
  name: string,
  options: { reps: number; predictRows: number },
): Promise<Peer> {
  const { reps, predictRows } = options;
  try {
    await run(PYTHON, ['-c', 'import sklearn, threadpoolctl']);
  } catch {
    return {
      available: false,
      reason: `${PYTHON} cannot import sklearn: apt-get update && apt-get install -y python3-sklearn`,
      results: {},
    };
  }
  const script = [
    'train_bench_split.py',
    `data/${name}.train.csv`,
    `data/${name}.test.csv`,
    '--trees',
    '100',
    '--reps',
    String(reps),
    '--predict-rows',
    String(predictRows),
  ];
  const timed = await access('/usr/bin/time')
    .then(() => true)
    .catch(() => false);
  const { stdout, stderr } = timed
    ? await run('/usr/bin/time', ['-f', 'PEAK_KB %M', PYTHON, ...script], { cwd: peerDir })
    : await run(PYTHON, script, { cwd: peerDir });
  const peak = /PEAK_KB (\d+)/.exec(stderr);
  const results: Partial<Record<Learner, Figures>> = {};
  for (const line of stdout.trim().split('\n')) {
    const r = JSON.parse(line) as {
      model: string;
      fit_s: number;
      accuracy: number;
      predict_rows_per_s: number;
      pickle_bytes: number;
    };
    const learner: Learner = r.model === 'random_forest' ? 'random-forest' : 'logistic-regression';
    results[learner] = {
      fitSeconds: r.fit_s,
      accuracy: r.accuracy,
      artifactBytes: r.pickle_bytes,
      predictRowsPerSecond: r.predict_rows_per_s,
      // One process fits both models: its peak is the larger one's.
      peakMemoryMiB: peak ? Number(peak[1]) / 1024 : null,
    };
  }
  return { available: true, results };
}
