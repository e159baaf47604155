/**
 * `npm run bench:predict`: batch scoring end to end, pinml against pandas + scikit-learn, in one
 * run, on the same rows.
 *
 * 1. Both sides train a forest with the same parameters (pinml's random-forest defaults: 100
 *    trees, max features sqrt, bootstrap) on synth_100k's training split
 *    (`../shared/bench/peer/data/synth_100k.train.csv`): pinml through its own loop in a
 *    throw-away repository (`pinml train`, `register`, `promote --merge`), scikit-learn with
 *    `predict-peer.py train` (n_jobs=2).
 * 2. `--rows` rows (default 1,000,000) tiled from synth_100k's test split are written as CSV.
 * 3. Scored end to end, each a fresh process under /usr/bin/time (wall seconds, peak RSS):
 *    `pinml predict synth -i rows.csv -o out.csv --proba` (read, validate, predict on every
 *    core, write), and `predict-peer.py score` (Python's start and imports, unpickling,
 *    `read_csv`, `predict_proba`, `to_csv` of the same columns) with n_jobs=2 and n_jobs=1.
 * 4. pinml again on `--memory-rows` rows (default 5,000,000): its peak memory against the first.
 * 5. The targets, each PASS or FAIL, and one JSON line of the figures (`--json`: only it).
 *
 * No pandas or scikit-learn (`apt-get install -y python3-pandas python3-sklearn`): their side
 * is reported missing and the target that needs it fails.
 *
 *   npm run bench:predict -- [--rows 1000000] [--memory-rows 5000000] [--json] [--keep]
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { peerDir } from './scikit-learn.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const PINML = path.join(root, 'pipeline', 'bin', 'pinml.js');

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'memory-rows': { type: 'string', default: '5000000' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
const memoryRows = Number(args['memory-rows']);
const say = (text: string): void => {
  if (!args.json) console.log(text);
};

const CONFIG = `version: 1
models:
  synth:
    description: synth_100k (make_classification, 10 features, 3 classes), for bench:predict.
    dataset: data/synth.csv
    features: [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9]
    label: label
    classes: [0, 1, 2]
    split: { holdout: 0.3, folds: 2, seed: 42 }
    candidates:
      - name: forest
        algorithm: random-forest
        params: { trees: 100, maxFeatures: sqrt }
    gate: { minAccuracy: 0.5, minMacroF1: 0.5 }
`;

/** Wall seconds and peak resident memory (MiB) of a command, by /usr/bin/time. */
async function timed(
  command: string,
  argv: string[],
  cwd: string,
): Promise<{ seconds: number; peakMiB: number; stdout: string }> {
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'TIME %e %M', command, ...argv], {
    cwd,
    maxBuffer: 64 << 20,
  });
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(stderr);
  if (!m) throw new Error(`no /usr/bin/time figures for ${command}: ${stderr.slice(-500)}`);
  return { seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024, stdout };
}

/** `n` rows of the test split's features (the label column dropped), tiled, as CSV. */
async function writeRows(file: string, n: number): Promise<number> {
  const source = path.join(peerDir, 'data', 'synth_100k.test.csv');
  const lines: string[] = [];
  let header = '';
  for await (const line of createInterface({ input: createReadStream(source) })) {
    const cut = line.slice(0, line.lastIndexOf(','));
    if (header === '') header = cut;
    else lines.push(cut);
  }
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  for (let i = 0; i < n; i += 1000) {
    let block = '';
    for (let j = i; j < Math.min(n, i + 1000); j++) block += `${lines[j % lines.length] ?? ''}\n`;
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return (await stat(file)).size;
}

async function pythonAvailable(): Promise<string | undefined> {
  try {
    await run(PYTHON, ['-c', 'import pandas, sklearn']);
    return undefined;
  } catch {
    return `${PYTHON} cannot import pandas and sklearn: apt-get install -y python3-pandas python3-sklearn`;
  }
}

interface Side {
  seconds: number;
  rowsPerSecond: number;
  peakMiB: number;
  steps?: Record<string, number>;
}

const ws = await mkdtemp(path.join(tmpdir(), 'pinml-bench-predict-'));
try {
  say(
    `bench:predict on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${rows.toLocaleString('en')} rows`,
  );
  // pinml's side of the training: its own loop in a throw-away repository.
  await mkdir(path.join(ws, 'data'));
  await copyFile(
    path.join(peerDir, 'data', 'synth_100k.train.csv'),
    path.join(ws, 'data', 'synth.csv'),
  );
  await writeFile(path.join(ws, 'pinml.yaml'), CONFIG);
  const git = (...a: string[]): Promise<unknown> =>
    run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...a], { cwd: ws });
  await git('init', '--quiet', '--initial-branch=main');
  await git('add', '--all');
  await git('commit', '--quiet', '-m', 'synth_100k');
  const trainStart = performance.now();
  const pinml = (...a: string[]): Promise<{ stdout: string }> =>
    run(process.execPath, [PINML, '-C', ws, ...a], { cwd: ws, maxBuffer: 16 << 20 });
  await pinml('train', '--out', path.join(ws, 'run'));
  await pinml('register', path.join(ws, 'run'));
  await pinml('promote', 'synth@1', '--merge');
  const pinmlTrainSeconds = (performance.now() - trainStart) / 1000;
  say(`pinml: trained, registered and promoted synth@1 in ${pinmlTrainSeconds.toFixed(1)} s`);

  const missing = await pythonAvailable();
  let sklearnTrainSeconds: number | undefined;
  if (missing === undefined) {
    const { stdout } = await run(PYTHON, [
      path.join(here, 'predict-peer.py'),
      'train',
      path.join(peerDir, 'data', 'synth_100k.train.csv'),
      path.join(ws, 'model.pkl'),
    ]);
    sklearnTrainSeconds = (JSON.parse(stdout) as { fit_s: number }).fit_s;
    say(`scikit-learn: trained in ${sklearnTrainSeconds.toFixed(1)} s (n_jobs=2)`);
  } else {
    say(`scikit-learn: missing (${missing})`);
  }

  const input = path.join(ws, 'rows.csv');
  const bytes = await writeRows(input, rows);
  say(`rows: ${rows.toLocaleString('en')} (${(bytes / 1e6).toFixed(0)} MB of CSV)`);

  const ours = async (file: string, n: number): Promise<Side> => {
    const t = await timed(
      process.execPath,
      [
        PINML,
        '-C',
        ws,
        'predict',
        'synth',
        '-i',
        file,
        '-o',
        path.join(ws, 'out-pinml.csv'),
        '--proba',
      ],
      ws,
    );
    return { seconds: t.seconds, rowsPerSecond: n / t.seconds, peakMiB: t.peakMiB };
  };
  const theirs = async (jobs: number): Promise<Side> => {
    const t = await timed(
      PYTHON,
      [
        path.join(here, 'predict-peer.py'),
        'score',
        path.join(ws, 'model.pkl'),
        input,
        path.join(ws, 'out-sklearn.csv'),
        String(jobs),
      ],
      ws,
    );
    const steps = JSON.parse(t.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
    return { seconds: t.seconds, rowsPerSecond: rows / t.seconds, peakMiB: t.peakMiB, steps };
  };

  const pinmlSide = await ours(input, rows);
  const sk2 = missing === undefined ? await theirs(2) : undefined;
  const sk1 = missing === undefined ? await theirs(1) : undefined;
  await rm(path.join(ws, 'out-sklearn.csv'), { force: true });
  await rm(input);
  const big = path.join(ws, 'rows-big.csv');
  const bigBytes = await writeRows(big, memoryRows);
  const pinmlBig = await ours(big, memoryRows);
  await rm(big);

  const f = (x: number | undefined, digits = 2): string =>
    x === undefined ? '—' : x.toFixed(digits);
  const k = (x: number | undefined): string =>
    x === undefined ? '—' : `${Math.round(x / 1000)} k`;
  say('');
  say(
    '| side | rows | wall s | rows/s | peak MiB | import s | load s | read s | predict s | write s |',
  );
  say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  say(
    `| pinml predict | ${rows.toLocaleString('en')} | ${f(pinmlSide.seconds)} | ${k(pinmlSide.rowsPerSecond)} | ${f(pinmlSide.peakMiB, 0)} | — | — | — | — | — |`,
  );
  for (const [name, side] of [
    ['pandas + scikit-learn, n_jobs=2', sk2],
    ['pandas + scikit-learn, n_jobs=1', sk1],
  ] as const) {
    const s = side?.steps;
    say(
      `| ${name} | ${rows.toLocaleString('en')} | ${f(side?.seconds)} | ${k(side?.rowsPerSecond)} | ${f(side?.peakMiB, 0)} | ${f(s?.import_s)} | ${f(s?.load_s)} | ${f(s?.read_s)} | ${f(s?.predict_s)} | ${f(s?.write_s)} |`,
    );
  }
  say(
    `| pinml predict | ${memoryRows.toLocaleString('en')} (${(bigBytes / 1e9).toFixed(2)} GB) | ${f(pinmlBig.seconds)} | ${k(pinmlBig.rowsPerSecond)} | ${f(pinmlBig.peakMiB, 0)} | — | — | — | — | — |`,
  );
  const ratio = sk2 === undefined ? undefined : pinmlSide.rowsPerSecond / sk2.rowsPerSecond;
  const growth = pinmlBig.peakMiB / pinmlSide.peakMiB - 1;
  const targets = [
    {
      name: 'pinml ≥ 2× the rows/s of pandas + scikit-learn (n_jobs=2), end to end',
      pass: ratio === undefined ? false : ratio >= 2,
      detail: ratio === undefined ? `no scikit-learn: ${missing ?? ''}` : `${ratio.toFixed(2)}×`,
    },
    {
      name: `pinml's peak memory at ${memoryRows.toLocaleString('en')} rows within 20 % of ${rows.toLocaleString('en')}`,
      pass: Math.abs(growth) <= 0.2,
      detail: `${f(pinmlBig.peakMiB, 0)} MiB vs ${f(pinmlSide.peakMiB, 0)} MiB (${(growth * 100).toFixed(0)} %)`,
    },
  ];
  say('');
  for (const t of targets) say(`${t.pass ? 'PASS' : 'FAIL'} ${t.name}: ${t.detail}`);
  console.log(
    JSON.stringify({
      rows,
      memoryRows,
      pinmlTrainSeconds,
      sklearnTrainSeconds,
      pinml: pinmlSide,
      pinmlMemoryRows: pinmlBig,
      sklearnJobs2: sk2,
      sklearnJobs1: sk1,
      ratio,
      targets: targets.map((t) => ({ name: t.name, pass: t.pass })),
    }),
  );
} finally {
  if (args.keep) console.error(`kept ${ws}`);
  else await rm(ws, { recursive: true, force: true });
}
