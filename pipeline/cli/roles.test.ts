import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRefs, createTrainedWorkspace, type Workspace } from '../registry/testing/project.ts';
import { pinml, pinmlOk } from '../testing/run-cli.ts';

let ws: Workspace;
let runs: readonly string[];

beforeAll(async () => {
  ({ ws, runs } = await createTrainedWorkspace('roles', [
    'forest-a',
    'forest-b',
    'forest-c',
    'logistic',
  ]));
});

afterAll(async () => {
  await ws?.remove();
});

/** A project with v1..v4 registered and `promoted` promoted in turn (merged). */
async function project(promoted: readonly number[]): Promise<string> {
  const dir = await ws.project();
  for (const run of runs) await pinmlOk(dir, 'register', run);
  for (const v of promoted) await pinmlOk(dir, 'promote', `iris@${v}`, '--merge');
  return dir;
}

async function pinsAt(dir: string, ref = 'main'): Promise<unknown> {
  return JSON.parse(await ws.git(dir, 'show', `${ref}:registry/iris/pins.json`));
}

/** The trailers of a commit, as git parses them. */
async function trailers(dir: string, ref: string): Promise<string> {
  return (await ws.git(dir, 'log', '-1', '--format=%(trailers:only)', ref)).trimEnd();
}

async function productionHistory(dir: string): Promise<[string, number | null, number | null][]> {
  const entries = JSON.parse((await pinmlOk(dir, 'history', 'iris', '--json')).stdout) as {
    kind: string;
    before: number | null;
    after: number | null;
  }[];
  return entries.map((e) => [e.kind, e.before, e.after]);
}

describe('pinml canary and pinml shadow', () => {
  it('write one commit on the standing branch with trailers, as format 2, and update it in place', async () => {
    const dir = await project([1]);
    const refs = await allRefs(ws.git, dir);
    const dry = await pinmlOk(dir, 'canary', 'iris@2', '--weight', '0.1', '--dry-run');
    expect(dry.stdout).toMatch(/^canary iris: none → v2\n {2}branch pinml\/canary-iris from /);
    expect(dry.stdout).toContain('  title: Canary iris@2 at 10% of traffic\n');
    expect(await allRefs(ws.git, dir)).toBe(refs);

    const first = await pinmlOk(dir, 'canary', 'iris@2', '--weight', '0.1');
    const tip = await ws.git(dir, 'rev-parse', 'pinml/canary-iris');
    expect(first.stdout).toBe(
      `created: pinml/canary-iris (${tip.slice(0, 12)}): Canary iris@2 at 10% of traffic\n` +
        'review and merge pinml/canary-iris into main\n',
    );
    expect(await ws.git(dir, 'rev-parse', 'pinml/canary-iris^')).toBe(
      await ws.git(dir, 'rev-parse', 'main'),
    );
    expect(await ws.git(dir, 'diff', '--name-only', 'main', 'pinml/canary-iris')).toBe(
      'registry/iris/pins.json',
    );
    expect(await pinsAt(dir, 'pinml/canary-iris')).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 1,
      canary: { version: 2, weight: 0.1 },
    });
    expect(await trailers(dir, tip)).toBe('Pinml-Model: iris\nPinml-Canary: 2@0.1');

    const again = await pinmlOk(dir, 'canary', 'iris@2', '--weight', '0.1', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ operation: 'unchanged', commit: tip });
    const heavier = await pinmlOk(dir, 'canary', 'iris@2', '--weight', '0.25', '--merge');
    expect(heavier.stdout).toMatch(
      /^updated: pinml\/canary-iris .*: Canary iris@2 at 25% of traffic\n/,
    );
    expect(heavier.stdout).toMatch(/merged into main/);
    expect(await pinsAt(dir)).toMatchObject({ canary: { version: 2, weight: 0.25 } });
    expect((await pinml(dir, 'canary', 'iris@2', '--weight', '0.25')).stdout).toBe(
      'unchanged: iris@2 is the canary at 25% already\n',
    );

    await pinmlOk(dir, 'shadow', 'iris@3', '--merge');
    expect(await pinsAt(dir)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 1,
      canary: { version: 2, weight: 0.25 },
      shadow: { version: 3 },
    });
    const off = await pinmlOk(dir, 'canary', 'iris', '--off', '--merge');
    expect(off.stdout).toMatch(/: End the canary iris@2\n/);
    expect(await trailers(dir, 'pinml/canary-iris')).toBe('Pinml-Model: iris\nPinml-Canary: off');
    await pinmlOk(dir, 'shadow', 'iris', '--off', '--merge');
    // With no role left the file is format 1 again, byte for byte what a promotion writes.
    expect(await ws.git(dir, 'diff', 'main~4', 'main', '--', 'registry/iris/pins.json')).toBe('');
    expect((await pinmlOk(dir, 'shadow', 'iris', '--off')).stdout).toBe(
      'unchanged: iris has no shadow\n',
    );
    // Role changes are not production changes.
    expect(await productionHistory(dir)).toEqual([['promote', null, 1]]);
  });

  it('refuse a missing or invalid weight and misplaced --off as usage errors, writing nothing', async () => {
    const dir = await project([1]);
    const refs = await allRefs(ws.git, dir);
    const cases: [string[], RegExp][] = [
      [['canary', 'iris@2'], /a canary needs --weight: give a number strictly between 0 and 1/],
      [['canary', 'iris@2', '--weight', '1'], /--weight "1" is not a share of traffic/],
      [['canary', 'iris@2', '--weight', '0'], /--weight "0" is not a share of traffic/],
      [['canary', 'iris@2', '--weight', 'ten'], /--weight "ten" is not a share of traffic/],
      [
        ['canary', 'iris', '--weight', '0.1'],
        /"iris" names no version: write `pinml canary iris@3 --weight 0\.1`/,
      ],
      [
        ['canary', 'iris@2', '--off'],
        /--off ends the canary of a model: write `pinml canary iris --off`/,
      ],
      [['shadow', 'iris'], /"iris" names no version: write `pinml shadow iris@3`/],
      [['shadow', 'iris@2', '--weight', '0.1'], /unknown option '--weight'/],
    ];
    for (const [argv, message] of cases) {
      const r = await pinml(dir, ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
    }
    expect(await allRefs(ws.git, dir)).toBe(refs);
  });

  it('refuse an unknown model or version, production itself, and a model with no production', async () => {
    const dir = await project([1]);
    const fails: [string[], string][] = [
      [
        ['canary', 'iirs@2', '--weight', '0.1'],
        'pinml: no model iirs in registry/ at main (models: iris); did you mean iris?\n',
      ],
      [['shadow', 'iris@9'], 'pinml: iris@9 is not registered (versions: v1, v2, v3, v4)\n'],
      [
        ['canary', 'iris@1', '--weight', '0.1'],
        'pinml: iris@1 is production already: a canary is another version (to replace production, promote a version)\n',
      ],
    ];
    for (const [argv, stderr] of fails) {
      const r = await pinml(dir, ...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stderr).toBe(stderr);
    }
    const fresh = await project([]);
    const r = await pinml(fresh, 'shadow', 'iris@2');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'pinml: iris has no production version: promote one before giving it a shadow\n',
    );
  });
});

describe('promoting with roles', () => {
  it('ends the canary and a shadow of the promoted version, and says so in the commit', async () => {
    const dir = await project([1]);
    await pinmlOk(dir, 'canary', 'iris@2', '--weight', '0.1', '--merge');
    await pinmlOk(dir, 'shadow', 'iris@3', '--merge');
    await pinmlOk(dir, 'promote', 'iris@2', '--merge');
    expect(await pinsAt(dir)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 2,
      shadow: { version: 3 },
    });
    const message = await ws.git(dir, 'log', '-1', '--format=%B', 'pinml/promote-iris');
    expect(message).toContain('Replaces iris@1. Ends the canary iris@2.\n');
    expect(await trailers(dir, 'pinml/promote-iris')).toBe(
      'Pinml-Model: iris\nPinml-Production: 2\nPinml-Canary: off',
    );
    await pinmlOk(dir, 'promote', 'iris@3', '--merge');
    expect(await pinsAt(dir)).toEqual({ formatVersion: 1, model: 'iris', production: 3 });
  });
});

describe('rollback with roles', () => {
  it('reverts production alone past later canary and shadow changes, twice, never re-promoting a rolled-back version', async () => {
    const dir = await project([1, 2, 3]);
    await pinmlOk(dir, 'canary', 'iris@4', '--weight', '0.1', '--merge');
    await pinmlOk(dir, 'shadow', 'iris@2', '--merge');
    expect(await productionHistory(dir)).toEqual([
      ['promote', null, 1],
      ['promote', 1, 2],
      ['promote', 2, 3],
    ]);
    // The merge that set v3 is what a rollback undoes.
    const promotion3 = await ws.git(dir, 'rev-parse', 'main~2');
    expect(await pinsAt(dir, promotion3)).toMatchObject({ production: 3 });

    const dry = await pinmlOk(dir, 'rollback', 'iris', '--dry-run');
    expect(dry.stdout).toMatch(/^rollback iris: v3 → v2\n/);
    expect(dry.stdout).toContain('  write registry/iris/pins.json\n');
    expect(dry.stdout).not.toContain('  revert ');

    const first = await pinmlOk(dir, 'rollback', 'iris', '--merge');
    expect(first.stdout).toMatch(
      /^created: pinml\/rollback-iris .*: Roll back iris from v3 to v2\n/,
    );
    const message = await ws.git(dir, 'log', '-1', '--format=%B', 'pinml/rollback-iris');
    expect(message.split('\n')[0]).toBe(`Revert "Merge branch 'pinml/promote-iris'"`);
    expect(message).toContain(`\n\nThis reverts commit ${promotion3}.\n\n`);
    expect(await trailers(dir, 'pinml/rollback-iris')).toBe(
      'Pinml-Model: iris\nPinml-Production: 2',
    );
    // The canary stays; the shadow of v2 ends, since v2 is production again.
    expect(await pinsAt(dir)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 2,
      canary: { version: 4, weight: 0.1 },
    });
    expect(await productionHistory(dir)).toEqual([
      ['promote', null, 1],
      ['promote', 1, 2],
      ['promote', 2, 3],
      ['rollback', 3, 2],
    ]);

    await pinmlOk(dir, 'shadow', 'iris@3', '--merge');
    await pinmlOk(dir, 'rollback', 'iris', '--merge');
    expect(await pinsAt(dir)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 1,
      canary: { version: 4, weight: 0.1 },
      shadow: { version: 3 },
    });
    expect(await productionHistory(dir)).toEqual([
      ['promote', null, 1],
      ['promote', 1, 2],
      ['promote', 2, 3],
      ['rollback', 3, 2],
      ['rollback', 2, 1],
    ]);
    const r = await pinml(dir, 'rollback', 'iris');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /iris@1 is the first production version: there is nothing to roll back to/,
    );
  });

  it('reverts with git when nothing changed since, and writes the field alone rather than bring a canary of the rolled-back version back', async () => {
    const dir = await project([1]);
    await pinmlOk(dir, 'shadow', 'iris@3', '--merge');
    await pinmlOk(dir, 'promote', 'iris@2', '--merge');
    await pinmlOk(dir, 'rollback', 'iris', '--merge');
    // A plain revert: the shadow the promotion kept is there, untouched.
    expect(await ws.git(dir, 'log', '-1', '--format=%s', 'pinml/rollback-iris')).toBe(
      `Revert "Merge branch 'pinml/promote-iris'"`,
    );
    expect(await trailers(dir, 'pinml/rollback-iris')).toBe('');
    expect(await pinsAt(dir)).toMatchObject({ production: 1, shadow: { version: 3 } });

    await pinmlOk(dir, 'canary', 'iris@4', '--weight', '0.2', '--merge');
    await pinmlOk(dir, 'promote', 'iris@4', '--merge');
    const plan = JSON.parse(
      (await pinmlOk(dir, 'rollback', 'iris', '--dry-run', '--json')).stdout,
    ) as {
      message: string;
      revert?: unknown;
    };
    expect(plan.revert).toBeUndefined();
    expect(plan.message).toContain('a revert would make iris@4 the canary again');
    await pinmlOk(dir, 'rollback', 'iris', '--merge');
    expect(await pinsAt(dir)).toEqual({
      formatVersion: 2,
      model: 'iris',
      production: 1,
      shadow: { version: 3 },
    });
  });
});
