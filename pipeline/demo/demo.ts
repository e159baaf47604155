/**
 * `npm run demo`: the whole pinml loop in a throw-away clone of this repository, narrated step
 * by step for a person watching. Train and register, promote through a branch and a merge, add
 * data, train again, merge the new version, roll it back with `git revert`, read the history
 * and rebuild a version from git.
 *
 * Everything runs as child processes, the way a user would type it: the real `git`, and the
 * sandbox's own copy of the `pinml` command (`node pipeline/bin/pinml.js`). The sandbox is a
 * clone of the committed HEAD (uncommitted changes are not in it) with no remote, so nothing
 * the demo does can reach the repository it came from; it is deleted at the end unless
 * `--keep` is given, and kept when a step fails so it can be inspected.
 *
 * Exit codes: 0 the story ran to the end, 1 a step failed (the message names it), 2 usage.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { jitteredRows } from './jittered-rows.ts';
import { hasColours, Narrator, paint, Shell, shellWord, StepFailed } from './shell.ts';

const MODEL = 'iris';
const DATASET = 'data/iris.csv';
const LABEL = 'species';
const BASE = 'main';
const PROMOTE_BRANCH = `pinml/promote-${MODEL}`;
const EXTRA_ROWS = 36;
const DATA_SEED = 2026;
const IDENTITY = { name: 'pinml demo', email: 'demo@pinml.invalid' };

const USAGE = `usage: npm run demo [-- --keep]

Runs the whole pinml loop in a throw-away clone of this repository's committed HEAD:
train, register, promote, add data, train again, merge, roll back with git revert, verify.

  --keep   keep the sandbox clone (printed at the end) instead of deleting it
  --help   show this help
`;

/** What the story has learnt so far, carried from step to step. */
interface Story {
  source: string;
  tmp: string;
  sandbox: string;
  shell?: Shell;
  /** The version the first run trained (registered now, or found by its training key). */
  first?: number;
  /** The version trained after the data changed. */
  second?: number;
  /** Production as it changes, for the summary: `none`, `v1 (PR #1)`, … */
  trail: string[];
  pullRequests: number;
}

const short = (oid: string): string => oid.slice(0, 12);
const v = (n: number | null | undefined): string => (n == null ? 'none' : `v${n}`);
const ref = (n: number): string => `${MODEL}@${n}`;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new StepFailed(`${what} is not known: an earlier step did not set it`);
  return value;
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The production version and versions of the model, from `pinml show <model> --json`. */
async function readModel(shell: Shell): Promise<{ production: number | null; versions: number[] }> {
  const [entry] = JSON.parse(await shell.pinmlQuiet('show', MODEL, '--json')) as {
    production: number | null;
    versions: number[];
  }[];
  if (!entry) throw new StepFailed(`pinml show ${MODEL} --json printed no model`);
  return entry;
}

/** `pinml show <model>` for the watcher, checked against `--json` run alongside it. */
async function showProduction(shell: Shell, expected: number): Promise<void> {
  const [, model] = await Promise.all([shell.pinml('show', MODEL), readModel(shell)]);
  if (model.production !== expected) {
    throw new StepFailed(
      `production of ${MODEL} is ${v(model.production)}, but ${v(expected)} was expected`,
    );
  }
}

/** The version `pinml pipeline` registered (or found already registered) for the model. */
function pipelineVersion(output: string): { status: 'registered' | 'unchanged'; version: number } {
  const m = new RegExp(`^(registered|unchanged:) ${MODEL}@(\\d+)`, 'm').exec(output);
  if (!m) throw new StepFailed(`pinml pipeline did not say that it registered ${MODEL}`);
  return { status: m[1] === 'registered' ? 'registered' : 'unchanged', version: Number(m[2]) };
}

/** Merges the promotion branch as a reviewer merging its pull request would. */
async function mergePromotion(shell: Shell, story: Story): Promise<number> {
  const pr = ++story.pullRequests;
  await shell.git(
    'merge',
    '--no-ff',
    PROMOTE_BRANCH,
    '-m',
    `Merge pull request #${pr} from ${PROMOTE_BRANCH}`,
  );
  return pr;
}

type StepRun = (story: Story, n: Narrator) => Promise<void>;

const steps: { title: string; run: StepRun }[] = [
  {
    title: 'Make a sandbox: a clone of this repository',
    async run(story, n) {
      const shell = new Shell(story.tmp, n);
      const head = (await shell.gitQuiet('-C', story.source, 'rev-parse', 'HEAD')).trim();
      const changes = (await shell.gitQuiet('-C', story.source, 'status', '--porcelain'))
        .split('\n')
        .filter(Boolean).length;
      n.say(
        `The sandbox is a fresh clone of the committed HEAD (${short(head)}) of ${story.source}.`,
        changes === 0
          ? 'Your working tree is clean, so the clone has exactly what you see.'
          : `Your working tree has ${changes} uncommitted change${changes === 1 ? '' : 's'}: they are not in the clone.`,
      );
      await shell.git('clone', '--no-hardlinks', story.source, story.sandbox);
      story.shell = new Shell(story.sandbox, n);
      const git = story.shell;
      const branch = (await git.gitQuiet('branch', '--show-current')).trim();
      if (branch !== BASE || (await git.gitQuiet('rev-parse', 'HEAD')).trim() !== head) {
        n.say(
          `Your repository is on ${branch || 'a detached HEAD'}; pinml's default branch is ${BASE}.`,
        );
        await git.git('checkout', '-q', '-B', BASE, head);
      }
      await git.git('config', 'user.name', IDENTITY.name);
      await git.git('config', 'user.email', IDENTITY.email);
      await git.git('remote', 'remove', 'origin');
      const modules = path.join(story.source, 'node_modules');
      if (!(await stat(modules).catch(() => undefined))?.isDirectory()) {
        throw new StepFailed(`${modules} does not exist: run \`npm ci\` in ${story.source} first`);
      }
      n.command(`ln -s ${shellWord(modules)} node_modules`);
      await symlink(modules, path.join(story.sandbox, 'node_modules'), 'dir');
      // .gitignore's `node_modules/` matches a directory, not a link: keep `git status` clean.
      await appendFile(path.join(story.sandbox, '.git', 'info', 'exclude'), '\nnode_modules\n');
      n.notice(
        'No remote: nothing the demo does can reach your repository. The installed packages',
        "are shared through the link (no npm install); `pinml` is the clone's own",
        '`node pipeline/bin/pinml.js`.',
      );
      n.say('What the committed registry holds at the start:');
      const [, start] = await Promise.all([git.pinml('show', MODEL), readModel(git)]);
      story.trail.push(v(start.production));
      n.notice(
        ...(start.versions.length === 0
          ? ['The registry is empty: the story starts from nothing.']
          : [
              `The committed registry already holds ${start.versions.map(v).join(', ')} (production: ${v(start.production)}).`,
              'The story starts from there instead of deleting anything: versions are append-only',
              'and a number is never reused, even in a sandbox.',
            ]),
      );
    },
  },
  {
    title: 'Train, gate, register, and promote through a pull request',
    async run(story, n) {
      const git = need(story.shell, 'the sandbox');
      n.say(
        `A push to ${BASE} runs the pipeline: every candidate in pinml.yaml is cross-validated, the`,
        'best is refit and scored once on the hold-out, the gate judges it, and it is registered.',
      );
      const trained = pipelineVersion(await git.pinml('pipeline'));
      story.first = trained.version;
      if (trained.status === 'registered') {
        n.notice(
          `${ref(trained.version)} is registered: one commit on ${BASE} that adds`,
          `registry/${MODEL}/versions/${trained.version}/ (card.json, model.json):`,
        );
        await git.git('log', '--oneline', '--stat', '-1');
      } else {
        n.notice(
          `${ref(trained.version)} already has this training key (same dataset, candidates and code),`,
          'so nothing was written: re-running the pipeline never duplicates a version.',
        );
      }
      const { production } = await readModel(git);
      if (production === trained.version) {
        await git.pinml('promote', ref(trained.version));
        n.notice(`${ref(trained.version)} is in production already: nothing to promote.`);
        return;
      }
      n.say('Promotion is a pull request. `pinml promote` writes it as a branch:');
      await git.pinml('promote', ref(trained.version));
      n.notice(`One commit on ${PROMOTE_BRANCH} that changes only registry/${MODEL}/pins.json:`);
      await git.git('diff', BASE, PROMOTE_BRANCH);
      n.say('A reviewer merges the pull request:');
      const pr = await mergePromotion(git, story);
      await showProduction(git, trained.version);
      story.trail.push(`${v(trained.version)} (PR #${pr})`);
      n.notice(
        `${ref(trained.version)} is in production: a server following ${BASE} would load it now.`,
      );
    },
  },
  {
    title: `New data arrives: ${EXTRA_ROWS} rows are committed`,
    async run(story, n) {
      const git = need(story.shell, 'the sandbox');
      const file = path.join(story.sandbox, DATASET);
      const before = await readFile(file);
      const rows = jitteredRows(before.toString('utf8'), {
        count: EXTRA_ROWS,
        label: LABEL,
        seed: DATA_SEED,
      });
      const text = before.toString('utf8');
      await writeFile(file, `${text}${text.endsWith('\n') ? '' : '\n'}${rows.join('\n')}\n`);
      const after = await readFile(file);
      n.say(
        `A data scientist adds ${EXTRA_ROWS} measurements to ${DATASET} (jittered copies of flowers`,
        `already in it, drawn with seed ${DATA_SEED}, so every run adds the same rows). The first three:`,
      );
      for (const row of rows.slice(0, 3)) n.output(row);
      await git.git('add', DATASET);
      await git.git('commit', '-m', `data: add ${EXTRA_ROWS} iris measurements`);
      n.notice(
        `${DATASET} sha256 ${short(sha256(before))} → ${short(sha256(after))}. The dataset hash is part of`,
        `every training key, so the next run cannot match ${ref(need(story.first, 'the first version'))}.`,
      );
    },
  },
  {
    title: 'The push trains again: a new version is registered and proposed',
    async run(story, n) {
      const git = need(story.shell, 'the sandbox');
      const first = need(story.first, 'the first version');
      const trained = pipelineVersion(await git.pinml('pipeline'));
      if (trained.status !== 'registered' || trained.version <= first) {
        throw new StepFailed(
          `the new data should have registered a version after ${ref(first)}, but the pipeline ` +
            `${trained.status === 'registered' ? 'registered' : 'found'} ${ref(trained.version)}`,
        );
      }
      story.second = trained.version;
      n.notice(
        `New dataset hash, new training key: ${ref(trained.version)} is registered. Its card records`,
        'everything needed to trust and rebuild it:',
      );
      await git.pinml('show', ref(trained.version));
      n.say('The pipeline proposes it; promoting it updates the standing branch:');
      const promoted = await git.pinml('promote', ref(trained.version));
      const branches = await git.git('branch', '--list', 'pinml/*');
      const names = branches
        .split('\n')
        .map((l) => l.replace(/^[*+ ]+/, '').trim())
        .filter(Boolean);
      if (names.length !== 1 || names[0] !== PROMOTE_BRANCH) {
        throw new StepFailed(
          `expected one branch, ${PROMOTE_BRANCH}; found: ${names.join(', ') || 'none'}`,
        );
      }
      n.notice(
        promoted.startsWith('updated:')
          ? `"updated": ${PROMOTE_BRANCH} now proposes ${ref(trained.version)}. One branch, so one pull`
          : `${PROMOTE_BRANCH} proposes ${ref(trained.version)}. One branch per model, so one pull`,
        'request per model: a newer candidate updates it instead of opening another.',
      );
    },
  },
  {
    title: 'Merge: the new version goes to production',
    async run(story, n) {
      const git = need(story.shell, 'the sandbox');
      const second = need(story.second, 'the second version');
      const pr = await mergePromotion(git, story);
      await showProduction(git, second);
      story.trail.push(`${v(second)} (PR #${pr})`);
      n.notice(`${ref(second)} is in production; the version before it stays registered.`);
    },
  },
  {
    title: 'Something is wrong with it: roll back with git revert',
    async run(story, n) {
      const git = need(story.shell, 'the sandbox');
      const [first, second] = [
        need(story.first, 'the first version'),
        need(story.second, 'the second version'),
      ];
      n.say(`The history of production is git's history of registry/${MODEL}/pins.json:`);
      await git.git('log', '--first-parent', '--oneline', '--', `registry/${MODEL}/pins.json`);
      n.say('pinml knows which commit set the pin now in effect, and how to undo it:');
      const [, planText] = await Promise.all([
        git.pinml('rollback', MODEL, '--dry-run'),
        git.pinmlQuiet('rollback', MODEL, '--dry-run', '--json'),
      ]);
      const plan = JSON.parse(planText) as { revert?: { commit: string; mainline: number } };
      if (!plan.revert) throw new StepFailed('pinml rollback planned no revert');
      const merge =
        (await git.gitQuiet('rev-list', '--parents', '-n', '1', plan.revert.commit))
          .trim()
          .split(' ').length > 2;
      n.notice(
        `\`pinml rollback ${MODEL}\` would put that revert on pinml/rollback-${MODEL} for review. Here we`,
        `do what GitHub's Revert button does, with git itself${merge ? " (-m 1: it reverts a merge, keeping main's side)" : ''}:`,
      );
      await git.git(
        'revert',
        '--no-edit',
        ...(merge ? ['-m', String(plan.revert.mainline)] : []),
        short(plan.revert.commit),
      );
      await showProduction(git, first);
      story.trail.push(`${v(first)} (git revert)`);
      n.notice(
        `${ref(first)} is back in production. ${ref(second)} stays registered (versions are append-only),`,
        'and a second rollback would go further back, never to it.',
      );
    },
  },
  {
    title: 'The record: history, and a version rebuilt from git',
    async run(story, n) {
      const git = need(story.shell, 'the sandbox');
      const second = need(story.second, 'the second version');
      await git.pinml('history', MODEL);
      n.notice(
        'Every change of production: when, who, which pull request; the revert reads as a rollback.',
      );
      const verified = await git.pinml('verify', ref(second));
      if (!verified.includes('MATCH') || verified.includes('MISMATCH')) {
        throw new StepFailed(`pinml verify ${ref(second)} did not rebuild the same artifact`);
      }
      n.notice(
        `verify read the dataset from git at the commit ${ref(second)}'s card names, retrained the chosen`,
        'candidate with the recorded configuration and seed, and got the same artifact bytes.',
      );
    },
  },
];

/** Runs the demo; resolves to the exit code. */
export async function runDemo(argv: readonly string[]): Promise<number> {
  let keep: boolean;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    keep = values.keep === true;
  } catch (e) {
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }

  const started = performance.now();
  const out = paint(hasColours(process.stdout));
  const err = paint(hasColours(process.stderr));
  const narrator = new Narrator((text) => process.stdout.write(text), out);
  const source = path.resolve(import.meta.dirname, '..', '..');
  const tmp = await mkdtemp(path.join(tmpdir(), 'pinml-demo-'));
  const story: Story = {
    source,
    tmp,
    sandbox: path.join(tmp, 'pinml'),
    trail: [],
    pullRequests: 0,
  };
  const onInterrupt = (): void => {
    if (!keep) rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(
      `\ndemo: interrupted${keep ? `; the sandbox is in ${story.sandbox}` : ''}\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);

  narrator.title(
    `pinml demo: the whole loop on ${MODEL}, in a throw-away clone of this repository`,
  );
  const total = steps.length + 1;
  for (const [i, step] of steps.entries()) {
    const stepStarted = performance.now();
    narrator.step(i + 1, total, step.title);
    try {
      await step.run(story, narrator);
    } catch (e) {
      const missing = (e as { code?: unknown; path?: unknown }).code === 'ENOENT';
      const message =
        missing && typeof (e as { path?: unknown }).path === 'string'
          ? `${String((e as { path: string }).path)} is not installed or not on PATH`
          : e instanceof Error
            ? e.message
            : String(e);
      const made = existsSync(story.sandbox);
      if (!made) await rm(tmp, { recursive: true, force: true });
      process.stderr.write(
        `\n${err.bad(`✗ Step ${i + 1}/${total} failed (${step.title}):`)} ${message}\n` +
          (made ? `  the sandbox is kept for inspection: ${story.sandbox}\n` : ''),
      );
      // A bug of the demo's own, not a command that failed or a missing program: show where.
      if (!(e instanceof StepFailed) && e instanceof Error && !('code' in e) && e.stack) {
        process.stderr.write(`${e.stack}\n`);
      }
      process.off('SIGINT', onInterrupt);
      return 1;
    }
    narrator.done((performance.now() - stepStarted) / 1000);
  }

  narrator.step(total, total, 'Done');
  narrator.say(`production of ${MODEL}: ${story.trail.join(' → ')}`);
  if (keep) {
    narrator.say(
      `sandbox: ${story.sandbox} (kept: cd there and run \`npx pinml history ${MODEL}\`, \`git log --graph\`)`,
    );
  } else {
    await rm(tmp, { recursive: true, force: true });
    narrator.say(`sandbox: ${story.sandbox} (deleted; run with --keep to keep it)`);
  }
  narrator.say(`total: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.off('SIGINT', onInterrupt);
  return 0;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  process.exitCode = await runDemo(process.argv.slice(2));
}
