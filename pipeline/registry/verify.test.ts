import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCodeVersion } from '../code-version.ts';
import { GitRepo } from '../git/repo.ts';
import { canonicalJson, sha256 } from '../json.ts';
import type { Card } from './schema.ts';
import { verifyVersion } from './verify.ts';
import {
  allRefs,
  createWorkspace,
  trainRunFolder,
  type Workspace,
} from './testing/project.ts';
import { pinml, pinmlOk } from '../testing/run-cli.ts';

let ws: Workspace;
let run: string;

beforeAll(async () => {
  ws = await createWorkspace('verify');
  run = path.join(ws.root, 'run');
  await trainRunFolder(await ws.project(), run, { candidate: 'forest-a' });
});

afterAll(async () => {
  await ws.remove();
});

const CARD = 'registry/iris/versions/1/card.json';
const DATA = 'data/iris.csv';

/**
 * Commits `edit(data/iris.csv)` with the git CLI, then a second commit that points the card of
 * iris@1 at the first one (as if it had trained there). Resolves to both datasets' hashes.
 */
async function repointAtEditedDataset(
  dir: string,
  edit: (text: string) => string,
): Promise<{ commit: string; recorded: string; found: string }> {
  const file = path.join(dir, DATA);
  const text = await readFile(file, 'utf8');
  const edited = edit(text);
  expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(text));
  expect([...Buffer.from(edited)].filter((b, i) => b !== Buffer.from(text)[i])).toHaveLength(1);
  await writeFile(file, edited);
  await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Change one byte of the dataset');
  const commit = await ws.git(dir, 'rev-parse', 'HEAD');
  const cardFile = path.join(dir, CARD);
  const card = JSON.parse(await readFile(cardFile, 'utf8')) as { code: { commit: string } };
  card.code.commit = commit;
  await writeFile(cardFile, canonicalJson(card));
  await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Point iris@1 at the changed dataset');
  return { commit, recorded: sha256(text), found: sha256(edited) };
}

describe('pinml verify', () => {
  it('rebuilds a registered version and reports a match', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    const before = await allRefs(ws.git, dir);
    const r = await pinml(dir, 'verify', 'iris@1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^iris@1: MATCH: the rebuilt artifact has the recorded sha256 [0-9a-f]{16}…\n$/,
    );

    const repo = GitRepo.open(dir);
    const result = await verifyVersion(repo, 'main', 'iris', 1, await readCodeVersion());
    const recorded = JSON.parse(await readFile(path.join(run, 'run.json'), 'utf8')) as {
      chosen: { artifact: { sha256: string } };
      dataset: { sha256: string };
    };
    expect(result).toMatchObject({
      match: true,
      artifact: {
        recorded: recorded.chosen.artifact.sha256,
        rebuilt: recorded.chosen.artifact.sha256,
      },
      dataset: { path: DATA, recorded: recorded.dataset.sha256, found: recorded.dataset.sha256 },
      code: { same: true },
      profile: 'match',
      reasons: [],
    });
    expect(await allRefs(ws.git, dir)).toBe(before);
  });

  it('reports a mismatch naming the field when the card’s reference profile was changed', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    const cardFile = path.join(dir, CARD);
    const card = JSON.parse(await readFile(cardFile, 'utf8')) as Card;
    const feature = card.profile?.features[1];
    if (!feature) throw new Error('iris@1 was registered without a profile');
    const mean = feature.mean;
    feature.mean = mean + 0.5;
    await writeFile(cardFile, canonicalJson(card));
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Edit the profile');
    const r = await pinml(dir, 'verify', 'iris@1');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^iris@1: MISMATCH: the rebuilt artifact has the recorded sha256 [0-9a-f]{16}…; the reference profile differs from the card\n/,
    );
    expect(r.stdout).toContain(
      `  the recomputed reference profile differs from the card's at profile.features[1].mean: ` +
        `the card records ${mean + 0.5}, rebuilding gives ${mean}\n`,
    );
    const repo = GitRepo.open(dir);
    const result = await verifyVersion(repo, 'main', 'iris', 1, await readCodeVersion());
    expect(result).toMatchObject({ match: false, profile: 'mismatch', code: { same: true } });
    expect(result.artifact.rebuilt).toBe(result.artifact.recorded);
  });

  it('verifies a card registered before pinml recorded a reference profile', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    const cardFile = path.join(dir, CARD);
    const { profile, ...old } = JSON.parse(await readFile(cardFile, 'utf8')) as Card;
    expect(profile).toBeDefined();
    await writeFile(cardFile, canonicalJson(old));
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Drop the profile');
    const r = await pinml(dir, 'verify', 'iris@1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^iris@1: MATCH: /);
    const repo = GitRepo.open(dir);
    const result = await verifyVersion(repo, 'main', 'iris', 1, await readCodeVersion());
    expect(result).toMatchObject({ match: true, profile: 'absent', reasons: [] });
  });

  it('reports a mismatch naming the dataset hashes when one byte of the data changed', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    // 5.1 → 5.2 in the first row: other data, so another model.
    const { commit, recorded, found } = await repointAtEditedDataset(dir, (t) =>
      t.replace('\n5.1,3.5,', '\n5.2,3.5,'),
    );
    const r = await pinml(dir, 'verify', 'iris@1');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^iris@1: MISMATCH: /);
    expect(r.stdout).toContain(
      `  ${DATA} at ${commit.slice(0, 12)} has sha256 ${found}, the card records ${recorded}\n`,
    );
    const json = JSON.parse((await pinml(dir, 'verify', 'iris@1', '--json')).stdout) as {
      match: boolean;
      dataset: { recorded: string; found: string; commit: string };
    };
    expect(json).toMatchObject({ match: false, dataset: { recorded, found, commit } });
  });

  it('reports a mismatch when the changed byte leaves the parsed rows, and so the model, the same', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    // The final newline becomes a space: cells are trimmed, so every row parses the same and
    // retraining gives the very same artifact, but the dataset is not the one recorded.
    const { commit, recorded, found } = await repointAtEditedDataset(dir, (t) =>
      t.replace(/\n$/, ' '),
    );
    const repo = GitRepo.open(dir);
    const result = await verifyVersion(repo, 'main', 'iris', 1, await readCodeVersion());
    expect(result.artifact.rebuilt).toBe(result.artifact.recorded);
    expect(result.match).toBe(false);
    expect(result.reasons).toContain(
      `${DATA} at ${commit.slice(0, 12)} has sha256 ${found}, the card records ${recorded}`,
    );
    const r = await pinml(dir, 'verify', 'iris@1');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^iris@1: MISMATCH: /);
  });

  it('reports a mismatch when the dataset is missing at the recorded commit', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    await ws.git(dir, 'rm', '--quiet', DATA);
    await ws.git(dir, 'commit', '--quiet', '-m', 'Remove the dataset');
    const commit = await ws.git(dir, 'rev-parse', 'HEAD');
    const cardFile = path.join(dir, CARD);
    const card = JSON.parse(await readFile(cardFile, 'utf8')) as { code: { commit: string } };
    card.code.commit = commit;
    await writeFile(cardFile, canonicalJson(card));
    await ws.git(dir, 'commit', '--quiet', '--all', '-m', 'Point iris@1 at it');
    const r = await pinml(dir, 'verify', 'iris@1');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /MISMATCH: could not rebuild the artifact; the dataset differs from the one recorded/,
    );
    expect(r.stdout).toContain(`${DATA} does not exist at ${commit.slice(0, 12)}`);
  });

  it('says how to fetch the commit a version trained at when the repository lacks it', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    const missing = 'f'.repeat(40);
    const cardFile = path.join(dir, CARD);
    const card = JSON.parse(await readFile(cardFile, 'utf8')) as { code: { commit: string } };
    card.code.commit = missing;
    await writeFile(cardFile, canonicalJson(card));
    await ws.git(
      dir,
      'commit',
      '--quiet',
      '--all',
      '-m',
      'Point iris@1 at a commit that is not here',
    );
    const r = await pinml(dir, 'verify', 'iris@1');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `pinml: iris@1 was trained at commit ${missing}, which is not in this repository: ` +
        'fetch the full history (git fetch --unshallow; in GitHub Actions, actions/checkout with fetch-depth: 0), then verify again\n',
    );
  });

  it('refuses a version that is not registered, naming the versions there are', async () => {
    const dir = await ws.project();
    await pinmlOk(dir, 'register', run);
    const r = await pinml(dir, 'verify', 'iris@7');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('pinml: iris@7 is not registered (versions: v1)\n');
  });
});
