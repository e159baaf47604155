import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../errors.ts';
import { GitRepo } from '../git/repo.ts';
import { canonicalJson } from '../json.ts';
import { checkModelName, paths } from './paths.ts';
import type { RunRecord } from '../train.ts';
import { readArtifact, readModelState, requireModel } from './registry.ts';
import type { Card } from './schema.ts';
import {
  allRefs,
  createTrainedWorkspace,
  type Workspace,
} from './testing/project.ts';
import { pinml, pinmlOk, pinmlWith } from '../testing/run-cli.ts';

let ws: Workspace;
let runA: string;
let runB: string;

beforeAll(async () => {
  ({
    ws,
    runs: [runA, runB],
  } = await createTrainedWorkspace('registry', ['forest-a', 'forest-b']));
});

afterAll(async () => {
  await ws.remove();
});

describe('a registry written by pinml, as the real git CLI sees it', () => {
  it('has a clean history and working tree after register, promote --merge and rollback --merge', async () => {
    const { git, gitStatus } = ws;
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    await pinmlOk(dir, 'register', runB);
    await pinmlOk(dir, 'promote', 'iris@1', '--merge');
    await pinmlOk(dir, 'promote', 'iris@2', '--merge');
    const rollback = await pinmlOk(dir, 'rollback', 'iris', '--merge');
    expect(rollback.stdout).toMatch(
      /^created: pinml\/rollback-iris .*Roll back iris from v2 to v1/,
    );

    expect(await gitStatus(dir, 'fsck', '--full', '--strict', '--no-dangling')).toEqual({
      ok: true,
      stderr: '',
    });
    expect(await git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await git(dir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');

    expect((await git(dir, 'log', '--first-parent', '--format=%s', 'main')).split('\n')).toEqual([
      "Merge branch 'pinml/rollback-iris'",
      "Merge branch 'pinml/promote-iris'",
      "Merge branch 'pinml/promote-iris'",
      'pinml: register iris@2 (forest-b)',
      'pinml: register iris@1 (forest-a)',
      'Initial commit',
    ]);
    // The merged side of each merge: the promotions and the revert of the second one.
    expect(await git(dir, 'log', '-1', '--format=%s', 'main^2')).toBe(
      `Revert "Merge branch 'pinml/promote-iris'"`,
    );
    const secondPromotion = await git(dir, 'rev-parse', 'main~1');
    expect(await git(dir, 'log', '-1', '--format=%B', 'main^2')).toContain(
      `This reverts commit ${secondPromotion}, reversing\nchanges made to `,
    );
    expect(await git(dir, 'log', '-1', '--format=%s', 'main~1^2')).toBe(
      'pinml: promote iris@2 to production',
    );
    expect(await git(dir, 'log', '-1', '--format=%s', 'main~2^2')).toBe(
      'pinml: promote iris@1 to production',
    );
    expect(await git(dir, 'rev-list', '--count', 'main')).toBe('9');

    // The working tree and index hold the registry files of main, byte for byte.
    expect((await git(dir, 'ls-files', 'registry')).split('\n')).toEqual([
      'registry/iris/pins.json',
      'registry/iris/versions/1/card.json',
      'registry/iris/versions/1/model.json',
      'registry/iris/versions/2/card.json',
      'registry/iris/versions/2/model.json',
    ]);
    const pins = await readFile(path.join(dir, 'registry/iris/pins.json'), 'utf8');
    expect(pins).toBe(canonicalJson({ formatVersion: 1, model: 'iris', production: 1 }));
    expect(await git(dir, 'show', 'main:registry/iris/pins.json')).toBe(pins.trimEnd());
    expect(await gitStatus(dir, 'diff', '--quiet', 'HEAD')).toEqual({ ok: true, stderr: '' });
  });

  it('records the run’s reference profile in a new card, and still reads a card without one', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const file = path.join(dir, 'registry/iris/versions/1/card.json');
    const card = JSON.parse(await readFile(file, 'utf8')) as Card;
    const run = JSON.parse(await readFile(path.join(runA, 'run.json'), 'utf8')) as RunRecord;
    expect(card.profile?.features.map((f) => f.name)).toEqual(
      card.signature.inputs.map((i) => i.name),
    );
    expect(card.profile).toEqual(run.profile);
    expect(card.profile?.label.rows).toBe(card.split.trainRows);
    expect(card.profile?.predicted.rows).toBe(card.split.holdoutRows);

    const { profile: _profile, ...old } = card;
    await writeFile(file, canonicalJson(old));
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'A card as registered before profiles');
    const repo = GitRepo.open(dir);
    const [read] = (await readModelState(repo, await repo.resolve('main'), 'iris')).cards;
    expect(read).toMatchObject({ version: 1, trainingKey: card.trainingKey });
    expect(read?.profile).toBeUndefined();
    await pinmlOk(dir, 'promote', 'iris@1', '--merge');
  });
});

describe('corrupt registry entries', () => {
  /** A project with iris@1 registered, then `files` committed by the git CLI. */
  async function corrupted(files: Record<string, string>): Promise<string> {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), content);
    }
    await ws.git(dir, 'add', '--all');
    await ws.git(dir, 'commit', '--quiet', '-m', 'Edit the registry by hand');
    return dir;
  }

  async function card(dir: string): Promise<Record<string, unknown>> {
    return JSON.parse(
      await readFile(path.join(dir, 'registry/iris/versions/1/card.json'), 'utf8'),
    ) as Record<string, unknown>;
  }

  /** Register, promote and show all fail with `message`, and no ref moves. */
  async function expectRefused(dir: string, message: RegExp): Promise<void> {
    const before = await allRefs(ws.git, dir);
    const tip = await ws.git(dir, 'rev-parse', 'main');
    for (const argv of [
      ['register', runB],
      ['promote', 'iris@1'],
      ['show', 'iris'],
    ]) {
      const r = await pinml(dir, ...argv);
      expect(r.code, `pinml ${argv.join(' ')}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/unexpected error|at .*\.ts:\d+/);
      expect(r.stdout).toBe('');
    }
    expect(await ws.git(dir, 'rev-parse', 'main')).toBe(tip);
    expect(await allRefs(ws.git, dir)).toBe(before);
    expect(await ws.git(dir, 'status', '--porcelain')).toBe('');
  }

  it('refuses a card.json that is not JSON and commits nothing', async () => {
    const dir = await corrupted({ 'registry/iris/versions/1/card.json': '{"model": "iris",' });
    await expectRefused(
      dir,
      /^pinml: registry\/iris\/versions\/1\/card\.json at [0-9a-f]{12} is not valid JSON: /,
    );
  });

  it('refuses a card without its training key, naming the field', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const { trainingKey: _key, ...rest } = await card(dir);
    await writeFile(path.join(dir, 'registry/iris/versions/1/card.json'), canonicalJson(rest));
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Drop the training key');
    await expectRefused(
      dir,
      /registry\/iris\/versions\/1\/card\.json at [0-9a-f]{12} does not match its schema: trainingKey: .*\(see registry\/README\.md\)/,
    );
  });

  it('refuses a card whose version is not the one of its folder', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const text = canonicalJson({ ...(await card(dir)), version: 2 });
    await writeFile(path.join(dir, 'registry/iris/versions/1/card.json'), text);
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Renumber by hand');
    await expectRefused(
      dir,
      /registry\/iris\/versions\/1\/card\.json says iris@2: it must match its folder/,
    );
  });

  for (const folder of ['01', 'x', '0']) {
    it(`refuses a version folder named "${folder}"`, async () => {
      const dir = await ws.project();
      await pinmlOk(dir, 'register', runA);
      const text = await readFile(path.join(dir, 'registry/iris/versions/1/card.json'), 'utf8');
      await mkdir(path.join(dir, 'registry/iris/versions', folder));
      await writeFile(path.join(dir, 'registry/iris/versions', folder, 'card.json'), text);
      await ws.git(dir, 'add', '--all');
      await ws.git(dir, 'commit', '--quiet', '-m', `Add version folder ${folder}`);
      await expectRefused(
        dir,
        new RegExp(
          `registry/iris/versions/${folder} is not a version folder: versions are positive integers`,
        ),
      );
    });
  }

  it('refuses pins.json that pins a version which is not registered', async () => {
    const dir = await corrupted({
      'registry/iris/pins.json': canonicalJson({ formatVersion: 1, model: 'iris', production: 9 }),
    });
    await expectRefused(
      dir,
      /registry\/iris\/pins\.json pins production to v9, which is not registered/,
    );
  });

  it('refuses an artifact whose sha256 does not match its card', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const file = path.join(dir, 'registry/iris/versions/1/model.json');
    const text = await readFile(file, 'utf8');
    // One byte: the same size, another hash.
    const edited = text.replace(/"kind"/, '"kinD"');
    expect(edited).not.toBe(text);
    await writeFile(file, edited);
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Edit the artifact');
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const state = await readModelState(repo, tip, 'iris');
    const card = state.cards[0];
    if (!card) throw new Error('iris@1 was not read');
    const error = await readArtifact(repo, tip, card).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).message).toMatch(
      new RegExp(
        `^registry/iris/versions/1/model\\.json at ${tip.slice(0, 12)} has sha256 [0-9a-f]{64} \\(${Buffer.byteLength(edited)} bytes\\) ` +
          `but its card records ${card.artifact.sha256} \\(${card.artifact.bytes} bytes\\): the artifact is corrupt or was edited$`,
      ),
    );
    expect((error as RegistryError).data).toMatchObject({
      file: 'registry/iris/versions/1/model.json',
      expected: card.artifact.sha256,
    });

    const before = await allRefs(ws.git, dir);
    const verify = await pinml(dir, 'verify', 'iris@1');
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(
      /model\.json at [0-9a-f]{12} has sha256 .*the artifact is corrupt/,
    );
    expect(await allRefs(ws.git, dir)).toBe(before);
  });

  it('reads the untouched artifact back byte for byte', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    const [card] = (await readModelState(repo, tip, 'iris')).cards;
    if (!card) throw new Error('iris@1 was not read');
    expect(await readArtifact(repo, tip, card)).toBe(
      await readFile(path.join(runA, 'model.json'), 'utf8'),
    );
  });
});

describe('model names that could escape the registry', () => {
  for (const name of ['../x', 'a/b', 'x..y', '..', '.hidden', 'Iris', '']) {
    it(`refuses the model name ${JSON.stringify(name)} before building a path`, () => {
      expect(() => checkModelName(name)).toThrow(RegistryError);
      expect(() => paths.card(name, 1)).toThrow(/is not a valid model name/);
      expect(() => paths.pins(name)).toThrow(RegistryError);
    });
  }

  it('builds the documented paths for a valid name and version', () => {
    expect(paths.pins('iris')).toBe('registry/iris/pins.json');
    expect(paths.card('iris', 3)).toBe('registry/iris/versions/3/card.json');
    expect(paths.artifact('iris-v2.beta_x', 12)).toBe(
      'registry/iris-v2.beta_x/versions/12/model.json',
    );
  });

  for (const version of [0, -1, 1.5, Number.NaN]) {
    it(`refuses the version ${version}`, () => {
      expect(() => paths.card('iris', version)).toThrow(
        /is not a version: versions are positive integers/,
      );
    });
  }

  it('refuses ../x when reading the registry', async () => {
    const dir = await ws.project();
    const repo = GitRepo.open(dir);
    await expect(readModelState(repo, await repo.resolve('main'), '../x')).rejects.toThrow(
      /"\.\.\/x" is not a valid model name/,
    );
  });

  it('refuses `show ../x@1` and `promote ../x@1` as usage errors, and x..y as an invalid name', async () => {
    const dir = await ws.project();
    const before = await allRefs(ws.git, dir);
    const show = await pinml(dir, 'show', '../x@1');
    expect(show.code).toBe(2);
    expect(show.stderr).toBe('pinml: "../x@1" is not a model: write it as iris or iris@3\n');
    const promote = await pinml(dir, 'promote', '../x@1');
    expect(promote.code).toBe(2);
    expect(promote.stderr).toMatch(/"\.\.\/x@1" is not a model version/);
    const dots = await pinml(dir, 'show', 'x..y@1');
    expect(dots.code).toBe(1);
    expect(dots.stderr).toMatch(/"x\.\.y" is not a valid model name: must not contain "\.\."/);
    expect(await allRefs(ws.git, dir)).toBe(before);
  });
});

describe('a model name that is not in the registry', () => {
  const commands = [
    ['show', 'iriss'],
    ['show', 'iriss@1'],
    ['history', 'iriss'],
    ['verify', 'iriss@1'],
    ['promote', 'iriss@1'],
    ['promote', 'iriss@1', '--dry-run'],
    ['rollback', 'iriss'],
    ['rollback', 'iriss', '--dry-run'],
  ];
  for (const argv of commands) {
    it(`exits 1 from \`pinml ${argv.join(' ')}\`, naming the models and the closest, and writes nothing`, async () => {
      const dir = await ws.project();
      await pinmlOk(dir, 'register', runA);
      const before = await allRefs(ws.git, dir);
      const r = await pinml(dir, ...argv);
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: 'pinml: no model iriss in registry/ at main (models: iris); did you mean iris?\n',
      });
      expect(await allRefs(ws.git, dir)).toBe(before);
    });
  }

  it('names no model when none is close, and says so when the registry is empty', async () => {
    const dir = await ws.project();
    expect(await pinml(dir, 'history', 'nosuch', '--ref', 'HEAD')).toMatchObject({
      code: 1,
      stderr: 'pinml: no model nosuch in registry/ at HEAD (models: none)\n',
    });
    await pinmlOk(dir, 'register', runA);
    expect(await pinml(dir, 'show', 'nosuch')).toMatchObject({
      code: 1,
      stderr: 'pinml: no model nosuch in registry/ at main (models: iris)\n',
    });
  });

  it('raises a RegistryError whose data lists the models and the suggestion', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', runA);
    const repo = GitRepo.open(dir);
    const tip = await repo.resolve('main');
    expect(await requireModel(repo, tip, 'iris')).toEqual(['iris']);
    const error: unknown = await requireModel(repo, tip, 'iris2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).toJSON()).toEqual({
      code: 'E_REGISTRY',
      message: `no model iris2 in registry/ at ${tip.slice(0, 12)} (models: iris); did you mean iris?`,
      data: { model: 'iris2', at: tip.slice(0, 12), commit: tip, models: ['iris'], suggestion: 'iris' },
    });
  });
});

describe('who a registration commit is by', () => {
  const by = async (dir: string): Promise<string> =>
    ws.git(dir, 'log', '-1', '--format=%an <%ae>|%cn <%ce>', 'main');

  it("is the global git configuration's user, the environment's GIT_AUTHOR_* over it, else pinml", async () => {
    const home = await ws.dir('home');
    await writeFile(
      path.join(home, '.gitconfig'),
      '[user]\n\tname = Grace Hopper\n\temail = grace@example.com\n',
    );
    const global = await ws.project();
    await expect(pinmlWith({ cwd: global, env: { HOME: home } }, 'register', runA)).resolves.toMatchObject({ code: 0 });
    expect(await by(global)).toBe('Grace Hopper <grace@example.com>|Grace Hopper <grace@example.com>');

    const env = { HOME: home, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com' };
    const fromEnv = await ws.project();
    await expect(pinmlWith({ cwd: fromEnv, env }, 'register', runA)).resolves.toMatchObject({ code: 0 });
    expect(await by(fromEnv)).toBe('Ada <ada@example.com>|Grace Hopper <grace@example.com>');

    const nobody = await ws.project();
    const empty = await ws.dir('home');
    await expect(pinmlWith({ cwd: nobody, env: { HOME: empty } }, 'register', runA)).resolves.toMatchObject({ code: 0 });
    expect(await by(nobody)).toBe(
      'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
    );
  });
});
