/**
 * `npm run bench:drift`: `pinml drift` over 1,000,000 logged rows × 10 features against pandas +
 * scipy running the same tests on the same rows, in the same run.
 *
 * 1. A throw-away project repository with two models on the peer's synth_10k data
 *    (../shared/bench/peer/data, 10 features): `synth` on all 10,000 rows (7,000-odd training
 *    rows: more than 1,000, so Wasserstein and Jensen–Shannon) and `synth1k` on the first
 *    1,400 (under 1,000 training rows: Kolmogorov–Smirnov and χ²), each trained with one
 *    logistic-regression candidate, registered and promoted by the real CLI.
 * 2. `--rows` (1,000,000) current rows per model, drawn with replacement from its training
 *    rows with f0 moved by one standard deviation and f1's spread doubled, written to a real
 *    SQLite prediction log (the server's) and to a CSV; the training rows to a reference CSV.
 * 3. Per model, `--reps` times each: `pinml drift MODEL --store …` and `--csv …` (the real CLI in
 *    a child process, wall time and peak RSS from /usr/bin/time), and the peer
 *    (`pipeline/bench/drift-peer.py`, Debian's python3-pandas and python3-scipy) on the same
 *    log file and on the same CSV: wall time, its own import / load / tests split, peak RSS.
 *    The two sides' per-feature scores are compared (they must agree within 1e-9).
 * 4. One JSON line of the figures, with the target: faster than the Python side.
 *
 *   npm run bench:drift -- [--rows 1000000] [--reps 3] [--json]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { GitRepo } from '../git/repo.ts';
import { moments } from '../drift/moments.ts';
import { readReference } from '../drift/read-reference.ts';
import type { DriftReport } from '../drift/report.ts';
import { SqliteLog } from '../log/sqlite.ts';
import { cardOf, readModelState } from '../registry/registry.ts';
import { seededRandom } from '../stats.ts';
import { peerDir } from './scikit-learn.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9'];
const MODELS = { synth: 10_000, synth1k: 1_400 } as const;

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const REPS = Number(args.reps);
const say = (line: string): void => {
  if (!args.json) process.stdout.write(`${line}\n`);
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** A child's wall seconds, peak RSS (MiB, from /usr/bin/time) and stdout. */
async function timed(
  cmd: string,
  argv: string[],
  cwd: string,
): Promise<{ seconds: number; rssMiB: number; stdout: string }> {
  const t0 = performance.now();
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'PINML_RSS_KB=%M', cmd, ...argv], {
    cwd,
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = (performance.now() - t0) / 1000;
  const kb = Number(/PINML_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  return { seconds, rssMiB: kb / 1024, stdout };
}

async function project(dir: string): Promise<void> {
  const csv = (await readFile(path.join(peerDir, 'data', 'synth_10k.csv'), 'utf8'))
    .trimEnd()
    .split('\n');
  await mkdir(path.join(dir, 'data'));
  const models: string[] = [];
  for (const [name, rows] of Object.entries(MODELS)) {
    await writeFile(
      path.join(dir, 'data', `${name}.csv`),
      `${csv.slice(0, rows + 1).join('\n')}\n`,
    );
    models.push(`  ${name}:
    dataset: data/${name}.csv
    features: all
    label: label
    split: { holdout: 0.3, folds: 2, seed: 42 }
    candidates:
      - { name: logistic, algorithm: logistic-regression, params: { C: 1, maxIterations: 50 } }
`);
  }
  await writeFile(path.join(dir, 'pinml.yaml'), `version: 1\nmodels:\n${models.join('')}`);
  const git = (...a: string[]) => run('git', a, { cwd: dir });
  await git('init', '--quiet', '--initial-branch=main');
  await git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'add', '--all');
  await git(
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@example.com',
    'commit',
    '--quiet',
    '-m',
    'bench project',
  );
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'b@example.com',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'b@example.com',
  };
  const pinml = (...a: string[]) =>
    run(process.execPath, [path.join(root, 'pipeline/bin/pinml.js'), ...a], { cwd: dir, env });
  await pinml('pipeline');
  for (const name of Object.keys(MODELS)) await pinml('promote', `${name}@1`, '--merge');
}

interface Side {
  seconds: number;
  rssMiB: number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pinml-drift-bench-'));
  say(
    `pinml drift bench: ${ROWS.toLocaleString('en')} rows × ${FEATURES.length} features per model, ${REPS} reps, in ${dir}`,
  );
  let t = performance.now();
  await project(dir);
  say(
    `project trained, registered and promoted in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const repo = GitRepo.open(dir);
  const commit = await repo.resolve('main');
  const store = path.join(dir, '.pinml', 'serve', 'predictions.db');
  const log = new SqliteLog(store);
  const results: Record<string, unknown> = {};
  const now = Date.now();
  for (const model of Object.keys(MODELS)) {
    t = performance.now();
    const card = cardOf(await readModelState(repo, commit, model), 1);
    const { sample } = await readReference(repo, card, 'train');
    const refCsv = path.join(dir, `${model}.reference.csv`);
    const refLines = [FEATURES.join(',')];
    for (let i = 0; i < sample.rows; i++) refLines.push(sample.columns.map((c) => c[i]).join(','));
    await writeFile(refCsv, `${refLines.join('\n')}\n`);
    const sd0 = moments(sample.columns[0] as Float64Array).std;
    const mean1 = moments(sample.columns[1] as Float64Array).mean;
    const random = seededRandom(11);
    const curCsv = path.join(dir, `${model}.current.csv`);
    const csvLines: string[] = [`${FEATURES.join(',')},prediction`];
    const classes = card.signature.output.classes.map(String);
    for (let start = 0; start < ROWS; start += 10_000) {
      const batch = [];
      for (let k = start; k < Math.min(ROWS, start + 10_000); k++) {
        const i = Math.floor(random() * sample.rows);
        const x = sample.columns.map((c) => c[i] as number);
        x[0] = (x[0] as number) + sd0;
        x[1] = mean1 + 2 * ((x[1] as number) - mean1);
        const cls = classes[Math.floor(random() * classes.length)] as string;
        csvLines.push(`${x.join(',')},${cls}`);
        batch.push({
          id: `${model}-${k}`,
          time: now - 3_600_000 + Math.floor((k / ROWS) * 3_000_000),
          model,
          version: 1,
          commit,
          pin: 'production' as const,
          inputs: x,
          class: cls,
          probabilities: classes.map(() => 1 / classes.length),
          latencyMs: 1,
          sampleRate: 1,
        });
      }
      await log.append(batch, [{ model, version: 1, features: FEATURES, classes }]);
    }
    await writeFile(curCsv, `${csvLines.join('\n')}\n`);
    say(
      `${model}: ${sample.rows} reference rows; ${ROWS.toLocaleString('en')} rows logged and written as CSV in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const sides: Record<string, Side[]> = {
      pinmlStore: [],
      pinmlCsv: [],
      peerStore: [],
      peerCsv: [],
    };
    const peerSplit: { import_s: number; load_s: number; tests_s: number }[] = [];
    let ours: DriftReport | undefined;
    let theirs: { features: { name: string; score: number | string }[] } | undefined;
    const pinmlArgs = [
      path.join(root, 'pipeline/bin/pinml.js'),
      'drift',
      model,
      '--since',
      '2h',
      '--json',
    ];
    const peerArgs = [
      path.join(here, 'drift-peer.py'),
      '--reference',
      refCsv,
      '--features',
      FEATURES.join(','),
    ];
    for (let r = 0; r < REPS; r++) {
      const a = await timed(process.execPath, [...pinmlArgs, '--store', store], dir);
      sides.pinmlStore!.push(a);
      ours = JSON.parse(a.stdout) as DriftReport;
      const b = await timed(
        process.execPath,
        [path.join(root, 'pipeline/bin/pinml.js'), 'drift', model, '--csv', curCsv, '--json'],
        dir,
      );
      sides.pinmlCsv!.push(b);
      const c = await timed(
        PYTHON,
        [...peerArgs, '--store', store, '--model', model, '--version', '1'],
        dir,
      );
      sides.peerStore!.push(c);
      theirs = JSON.parse(c.stdout) as typeof theirs;
      const d = await timed(PYTHON, [...peerArgs, '--current', curCsv], dir);
      sides.peerCsv!.push(d);
      peerSplit.push(JSON.parse(d.stdout) as (typeof peerSplit)[number]);
    }
    let worst = 0;
    for (const f of ours?.features ?? []) {
      const p = theirs?.features.find((x) => x.name === f.name);
      const a = f.score ?? Number.NaN;
      const b = Number(p?.score);
      worst = Math.max(worst, Math.abs(a - b) / Math.max(1, Math.abs(b)));
    }
    const figure = (k: string) => ({
      seconds: median(sides[k]!.map((s) => s.seconds)),
      peakRssMiB: median(sides[k]!.map((s) => s.rssMiB)),
    });
    const row = {
      referenceRows: sample.rows,
      tests: [...new Set(ours?.features.map((f) => f.test))],
      drifted: ours?.features.filter((f) => f.drifted).map((f) => f.name),
      pinml: {
        store: figure('pinmlStore'),
        csv: figure('pinmlCsv'),
        memoryBytes: ours?.memoryBytes,
      },
      peer: {
        store: figure('peerStore'),
        csv: figure('peerCsv'),
        importSeconds: median(peerSplit.map((p) => p.import_s)),
        loadSeconds: median(peerSplit.map((p) => p.load_s)),
        testsSeconds: median(peerSplit.map((p) => p.tests_s)),
      },
      worstScoreDifference: worst,
    };
    results[model] = row;
    say(
      `${model}: pinml drift --store ${row.pinml.store.seconds.toFixed(2)} s ${row.pinml.store.peakRssMiB.toFixed(0)} MiB, --csv ${row.pinml.csv.seconds.toFixed(2)} s ${row.pinml.csv.peakRssMiB.toFixed(0)} MiB | pandas+scipy store ${row.peer.store.seconds.toFixed(2)} s ${row.peer.store.peakRssMiB.toFixed(0)} MiB, csv ${row.peer.csv.seconds.toFixed(2)} s ${row.peer.csv.peakRssMiB.toFixed(0)} MiB (import ${row.peer.importSeconds.toFixed(2)} s, load ${row.peer.loadSeconds.toFixed(2)} s, tests ${row.peer.testsSeconds.toFixed(2)} s) | worst score difference ${worst.toExponential(2)}`,
    );
  }
  await log.close();
  const targets = Object.entries(results).flatMap(([model, r]) => {
    const x = r as {
      pinml: { store: { seconds: number }; csv: { seconds: number } };
      peer: { store: { seconds: number }; csv: { seconds: number } };
      worstScoreDifference: number;
    };
    return [
      {
        target: `${model}: pinml drift --store faster than pandas+scipy on the same log`,
        pass: x.pinml.store.seconds < x.peer.store.seconds,
      },
      {
        target: `${model}: pinml drift --csv faster than pandas+scipy on the same CSV`,
        pass: x.pinml.csv.seconds < x.peer.csv.seconds,
      },
      {
        target: `${model}: scores equal scipy's within 1e-9`,
        pass: x.worstScoreDifference <= 1e-9,
      },
    ];
  });
  for (const t of targets) say(`${t.pass ? 'PASS' : 'FAIL'} ${t.target}`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'drift', rows: ROWS, features: FEATURES.length, reps: REPS, node: process.version, results, targets })}\n`,
  );
  if (!args.keep) await rm(dir, { recursive: true, force: true });
}

await main();
