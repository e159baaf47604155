import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessCandidate, decideCandidate } from './decide.ts';
import { readCodeVersion } from './code-version.ts';
import { parseConfig, type ModelConfig } from './config.ts';
import { parseDataset, type Dataset } from './dataset.ts';
import { canonicalJson } from './json.ts';
import { DEFAULT_RANDOM_FOREST_PARAMS } from './models/random-forest/index.ts';
import { GitRepo, type FileChange } from './git/repo.ts';
import { renderReportMarkdown, type PromotionReport } from './report.ts';
import { readRunFolder } from './run-folder.ts';
import { pinml } from './testing/run-cli.ts';
import { trainModel, type TrainRun } from './train.ts';
import { readRunDataset } from './workspace.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const GOLDEN = path.join(here, 'fixtures', 'report-iris.md');
/** The lineage commit of the golden report (a real one would change with every run). */
const TRAINED_AT = 'c0ffee0000000000000000000000000000000000';
const ADA = { name: 'Ada', email: 'ada@example.com', timestamp: 1_700_000_000, timezoneOffset: 0 };

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

interface Registry {
  repo: GitRepo;
  /** The tip of main. */
  at: string;
  /** The commit that holds the dataset and iris@1. */
  first: string;
}

/**
 * A repository with the bundled data and the committed iris@1 (card and artifact), pinned as
 * production by a second commit unless `pin` is false. `editCard` changes the card first.
 */
async function registry(
  options: {
    pin?: boolean;
    editCard?: (card: Record<string, unknown>, first?: string) => void;
    data?: string;
  } = {},
): Promise<Registry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pinml-compare-'));
  temps.push(dir);
  const repo = await GitRepo.init(dir);
  const version = path.join(root, 'registry', 'iris', 'versions', '1');
  const card = JSON.parse(await readFile(path.join(version, 'card.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const data = await readFile(path.join(root, 'data', 'iris.csv'));
  const first = await repo.writeCommit({
    parent: null,
    changes: [{ path: 'data/iris.csv', content: data }],
    message: 'data\n',
    author: ADA,
  });
  options.editCard?.(card, first);
  const changes: FileChange[] = [
    { path: 'registry/iris/versions/1/card.json', content: JSON.stringify(card, null, 2) + '\n' },
    {
      path: 'registry/iris/versions/1/model.json',
      content: await readFile(path.join(version, 'model.json')),
    },
  ];
  if (options.data !== undefined) changes.push({ path: 'data/iris.csv', content: options.data });
  let at = await repo.writeCommit({
    parent: first,
    changes,
    message: 'pinml: register iris@1\n',
    author: ADA,
  });
  if (options.pin !== false) {
    at = await repo.writeCommit({
      parent: at,
      changes: [
        {
          path: 'registry/iris/pins.json',
          content:
            JSON.stringify({ formatVersion: 1, model: 'iris', production: 1 }, null, 2) + '\n',
        },
      ],
      message: 'pinml: promote iris@1 to production\n',
      author: ADA,
    });
  }
  await repo.updateBranch('main', at);
  return { repo, at, first };
}

describe('assessCandidate on the bundled Iris data against the committed iris@1', () => {
  let run: TrainRun;
  let dataset: Dataset;
  let reg: Registry;

  beforeAll(async () => {
    run = await readRunFolder(path.join(here, 'fixtures', 'iris-logistic-run'));
    dataset = await readRunDataset(root, run.record);
    reg = await registry();
  });

  it('scores both models on the same hold-out rows and reproduces the run’s own hold-out figures', async () => {
    const result = await assessCandidate({
      repo: reg.repo,
      at: reg.at,
      run,
      dataset,
      commit: TRAINED_AT,
    });
    expect(result.production).toBe(1);
    const cmp = result.comparison;
    expect(cmp?.rows).toBe(run.record.split.holdoutRows);
    expect(cmp?.candidate.accuracy).toBe(run.record.chosen.holdout.accuracy);
    expect(cmp?.candidate.confusion).toEqual(run.record.chosen.holdout.confusion);
    // iris@1 was scored on the same hold-out when it was registered (same data, same split).
    const card = JSON.parse(
      await readFile(path.join(root, 'registry', 'iris', 'versions', '1', 'card.json'), 'utf8'),
    ) as { metrics: { holdout: { accuracy: number; confusion: number[][] } } };
    expect(cmp?.production.accuracy).toBe(card.metrics.holdout.accuracy);
    expect(cmp?.production.confusion).toEqual(card.metrics.holdout.confusion);
  });

  it('decides under the run’s policy and gives the card its comparison and decision', async () => {
    const result = await assessCandidate({
      repo: reg.repo,
      at: reg.at,
      run,
      dataset,
      commit: TRAINED_AT,
    });
    expect(result.decision.action).toBe('promote');
    expect(result.assessment?.decision).toEqual(result.decision);
    expect(result.assessment?.comparison).toMatchObject({
      against: { version: 1, candidate: 'forest-conservative' },
      datasetChanged: false,
      excludedRows: 0,
      rows: run.record.split.holdoutRows,
      policy: { policy: 'non-inferiority', tolerance: 0.02, alpha: 0.05 },
    });
    expect(result.report.notes).toEqual([]);
  });

  it('renders the report kept as the golden file pipeline/fixtures/report-iris.md', async () => {
    const result = await assessCandidate({
      repo: reg.repo,
      at: reg.at,
      run,
      dataset,
      commit: TRAINED_AT,
    });
    const markdown = renderReportMarkdown(result.report, { version: 2 });
    if (process.env.UPDATE_GOLDEN === '1') await writeFile(GOLDEN, markdown);
    expect(markdown).toBe(await readFile(GOLDEN, 'utf8'));
  });

  it('decides a run that passed the gate as assessCandidate does, on the run merged from its folders', async () => {
    const decided = await decideCandidate({
      runs: [{ dir: 'iris-logistic-run', run }],
      repo: reg.repo,
      at: () => Promise.resolve(reg.at),
      dataset: () => Promise.resolve(dataset),
      commit: TRAINED_AT,
    });
    const assessed = await assessCandidate({
      repo: reg.repo,
      at: reg.at,
      run,
      dataset,
      commit: TRAINED_AT,
    });
    expect(decided).toMatchObject({ gate: 'passed', ...assessed });
    // One run merged is that run: registration gets the bytes training wrote.
    expect(canonicalJson(decided.run.record)).toBe(canonicalJson(run.record));
    expect(decided.run.artifactText).toBe(run.artifactText);
  });

  it('rejects a candidate that fails the gate without reading production or the dataset', async () => {
    const config = { ...run.record.config, gate: { minAccuracy: 1, minMacroF1: 0 } };
    const strict = { ...run, record: { ...run.record, config } };
    const decided = await decideCandidate({
      runs: [{ dir: 'strict', run: strict }],
      repo: reg.repo,
      at: () => Promise.reject(new Error('production was read')),
      dataset: () => Promise.reject(new Error('the dataset was read')),
      commit: null,
    });
    expect(decided.gate).toBe('failed');
    expect(decided.run.record.gate.passed).toBe(false);
    expect(decided.decision.action).toBe('reject');
    expect(decided.decision.reasons[0]).toBe('the candidate failed the gate');
    expect(decided.decision.reasons[1]).toMatch(
      /^hold-out accuracy 0\.\d{4} is below the gate's minimum 1$/,
    );
  });

  it('promotes when the gate passes and there is no production version', async () => {
    const unpinned = await registry({ pin: false });
    const result = await assessCandidate({
      repo: unpinned.repo,
      at: unpinned.at,
      run,
      dataset,
      commit: null,
    });
    expect(result.production).toBeNull();
    expect(result.comparison).toBeNull();
    expect(result.decision.action).toBe('promote');
    expect(result.assessment).toEqual({ decision: result.decision, comparison: null });
    expect(renderReportMarkdown(result.report)).toContain('there is no production version');
  });

  it('says unchanged, and gives no card facts, when the candidate has production’s training key', async () => {
    const same = await registry({
      editCard: (card) => {
        card.trainingKey = run.record.chosen.trainingKey;
      },
    });
    const result = await assessCandidate({
      repo: same.repo,
      at: same.at,
      run,
      dataset,
      commit: null,
    });
    expect(result.decision.action).toBe('unchanged');
    expect(result.comparison).toBeNull();
    expect(result.assessment).toBeNull();
  });

  it('holds, and says why, when production takes a feature the dataset does not have', async () => {
    const model = JSON.parse(
      await readFile(path.join(root, 'registry', 'iris', 'versions', '1', 'model.json'), 'utf8'),
    ) as { features: string[] };
    expect(model.features).toContain('petal_width');
    // Rename the column in the current data: production still asks for petal_width.
    const renamed = (await readFile(path.join(root, 'data', 'iris.csv'), 'utf8')).replace(
      'petal_width',
      'petal_w',
    );
    const config = {
      ...run.record.config,
      features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_w'],
    };
    const other = parseDataset(renamed, {
      path: 'data/iris.csv',
      features: config.features,
      label: 'species',
    });
    const trained = trainModel({
      model: {
        ...config,
        name: 'iris',
        candidates: [
          {
            name: 'forest',
            algorithm: 'random-forest',
            params: { ...DEFAULT_RANDOM_FOREST_PARAMS, trees: 20 },
          },
        ],
      },
      dataset: other,
      code: run.record.code,
    });
    const result = await assessCandidate({
      repo: reg.repo,
      at: reg.at,
      run: trained,
      dataset: other,
      commit: null,
    });
    expect(result.decision.action).toBe('hold');
    expect(result.decision.reasons[0]).toContain('"petal_width"');
    const comparison = result.assessment?.comparison as { incomparable: string };
    expect(comparison.incomparable).toContain('petal_width');
  });
});

describe('assessCandidate when the dataset and the split changed since production', () => {
  it('says the dataset changed and leaves production’s training rows out of the hold-out', async () => {
    const original = await readFile(path.join(root, 'data', 'iris.csv'), 'utf8');
    // 30 new flowers: copies of the first 30 with every measurement 0.05 cm longer.
    const more = original
      .split('\n')
      .slice(1, 31)
      .map((row) => row.replace(/\d+\.\d+/g, (x) => (Number(x) + 0.05).toFixed(2)));
    const grown = `${original.trimEnd()}\n${more.join('\n')}\n`;
    // Production's card must point at the commit that holds the data it trained on.
    const reg = await registry({
      data: grown,
      editCard: (card, first) => {
        (card.code as { commit: string }).commit = first as string;
      },
    });
    const yaml = (await readFile(path.join(root, 'pinml.yaml'), 'utf8')).replace(
      'seed: 42',
      'seed: 43',
    );
    const config = parseConfig(yaml).models.iris as ModelConfig;
    const model: ModelConfig = {
      ...config,
      candidates: config.candidates.filter((c) => c.name === 'logistic-fast'),
    };
    const dataset = parseDataset(grown, {
      path: 'data/iris.csv',
      features: model.features,
      label: model.label,
      ...(model.classes ? { classes: model.classes } : {}),
    });
    const run = trainModel({ model, dataset, code: await readCodeVersion() });
    const result = await assessCandidate({
      repo: reg.repo,
      at: reg.at,
      run,
      dataset,
      commit: null,
    });
    expect(result.report.dataset.changed).toBe(true);
    expect(result.report.notes.join('\n')).toMatch(/the dataset changed since production \(v1\)/);
    const excluded = (result.assessment?.comparison as { excludedRows: number }).excludedRows;
    // Another split seed puts some of production's training rows into this hold-out.
    expect(excluded).toBeGreaterThan(0);
    expect(result.comparison?.rows).toBe(run.record.split.holdoutRows - excluded);
    expect(result.report.notes.join('\n')).toContain(
      `${excluded} of ${run.record.split.holdoutRows} hold-out rows`,
    );
    const markdown = renderReportMarkdown(result.report);
    expect(markdown).toContain('Dataset changed since production v1 was trained');
  });
});

describe('pinml compare and the A/B step of pinml pipeline', () => {
  let dir: string;

  /** A project checked out on main: pinml.yaml with two fast candidates, the data, iris@1 pinned. */
  async function project(policy: 'non-inferiority' | 'strict'): Promise<string> {
    const reg = await registry();
    dir = reg.repo.dir;
    const yaml = `version: 1
models:
  iris:
    dataset: data/iris.csv
    features: [sepal_length, sepal_width, petal_length, petal_width]
    label: species
    classes: [setosa, versicolor, virginica]
    split: { holdout: 0.3, folds: 5, seed: 42 }
    candidates:
      - { name: logistic-default, algorithm: ml-logistic-regression, params: { steps: 1000, learningRate: 2 } }
      - { name: logistic-fast, algorithm: ml-logistic-regression, params: { steps: 200, learningRate: 4 } }
    gate: { minAccuracy: 0.9, minMacroF1: 0.9 }
    compare: { policy: ${policy} }
`;
    const at = await reg.repo.writeCommit({
      parent: reg.at,
      changes: [{ path: 'pinml.yaml', content: yaml }],
      message: 'configure\n',
      author: ADA,
    });
    await reg.repo.updateBranch('main', at);
    return dir;
  }

  it('pinml compare prints the report and writes report.md and report.json', async () => {
    const cwd = await project('non-inferiority');
    const run = path.join(here, 'fixtures', 'iris-logistic-run');
    const r = await pinml(cwd, 'compare', run, '--out', 'out');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^## PROMOTE: iris candidate `logistic-default` vs production iris@1/);
    expect(await readFile(path.join(cwd, 'out', 'report.md'), 'utf8')).toBe(r.stdout);
    const json = JSON.parse(
      await readFile(path.join(cwd, 'out', 'report.json'), 'utf8'),
    ) as PromotionReport;
    expect(json.decision.action).toBe('promote');
    const asJson = await pinml(cwd, 'compare', run, '--json');
    expect(JSON.parse(asJson.stdout)).toEqual(json);
  });

  it('pipeline: promote → the card records the comparison, and the promotion is planned', async () => {
    const cwd = await project('non-inferiority');
    const r = await pinml(cwd, 'pipeline');
    expect(r.stderr).not.toContain('pinml:');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/A\/B iris \(logistic-\w+\) vs production iris@1: promote/);
    expect(r.stdout).toContain('registered iris@2');
    expect(r.stdout).toContain('promotion plan (not applied)');
    const card = JSON.parse(
      (await GitRepo.open(cwd).readText('main', 'registry/iris/versions/2/card.json')) ?? '',
    ) as {
      decision: { action: string };
      comparison: { against: { version: number }; mcnemar: unknown };
    };
    expect(card.decision.action).toBe('promote');
    expect(card.comparison.against.version).toBe(1);
    expect(card.comparison.mcnemar).toBeDefined();
    const report = await readFile(path.join(cwd, '.pinml', 'reports', 'iris', 'report.md'), 'utf8');
    expect(report).toContain('registered as **iris@2**');
  });

  it('pipeline: hold under the strict policy → registered with its decision, no promotion planned', async () => {
    const cwd = await project('strict');
    const r = await pinml(cwd, 'pipeline');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/vs production iris@1: hold/);
    expect(r.stdout).toContain('promotion: none (the A/B decision is hold)');
    expect(r.stdout).not.toContain('promotion plan');
    const card = JSON.parse(
      (await GitRepo.open(cwd).readText('main', 'registry/iris/versions/2/card.json')) ?? '',
    ) as { decision: { action: string; reasons: string[] } };
    expect(card.decision.action).toBe('hold');
    expect(card.decision.reasons[0]).toMatch(/not a significant improvement/);
  });
});
