import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { gitCli, gitEnv } from '../../pipeline/git/testing/git-cli.ts';
import { canonicalJson } from '../../pipeline/json.ts';
import { createMetrics } from '../metrics.ts';
import { Reconciler, notReadyReasons, statusOf } from './reconcile.ts';
import { localSource, type RegistrySource } from './source.ts';
import { ROOT } from '../testing/fixtures.ts';

let tmp: string;
let work: string;
const { git } = gitCli(() => gitEnv(tmp));

async function commitPins(model: string, production: number | null | 'garbage'): Promise<string> {
  await mkdir(join(work, `registry/${model}`), { recursive: true });
  await writeFile(
    join(work, `registry/${model}/pins.json`),
    production === 'garbage'
      ? '{ not json'
      : canonicalJson({ formatVersion: 1, model, production }),
  );
  await git(work, 'add', '--all');
  await git(work, 'commit', '--quiet', '-m', `pin ${model} ${production}`);
  return git(work, 'rev-parse', 'HEAD');
}

/** Commits a format-2 pins.json for iris. */
async function commitRoles(roles: {
  canary?: { version: number; weight: number };
  shadow?: { version: number };
}): Promise<string> {
  await writeFile(
    join(work, 'registry/iris/pins.json'),
    canonicalJson({ formatVersion: 2, model: 'iris', production: 1, ...roles }),
  );
  await git(work, 'add', '--all');
  await git(work, 'commit', '--quiet', '-m', 'pin iris roles');
  return git(work, 'rev-parse', 'HEAD');
}

/** A local source that counts its calls. */
function counted(): RegistrySource & { calls: number } {
  const inner = localSource(work, 'main');
  const source = {
    location: inner.location,
    ref: inner.ref,
    calls: 0,
    head: () => {
      source.calls++;
      return inner.head();
    },
  };
  return source;
}

function reconcilerOf(source: RegistrySource): Reconciler {
  return new Reconciler({
    source,
    log: pino({ level: 'silent' }),
    metrics: createMetrics({ defaults: false }),
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pinml-serve-reconcile-'));
  work = join(tmp, 'work');
  await mkdir(join(work, 'registry/iris/versions'), { recursive: true });
  for (const v of [1, 2, 3]) {
    await cp(join(ROOT, `registry/iris/versions/${v}`), join(work, `registry/iris/versions/${v}`), {
      recursive: true,
    });
  }
  await git(work, 'init', '--quiet', '--initial-branch=main');
  await commitPins('iris', 1);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('Reconciler', () => {
  it('is starting, then ok and ready once the pinned version is served', async () => {
    const r = reconcilerOf(counted());
    expect(statusOf(r.state)).toBe('starting');
    expect(notReadyReasons(r.state)).toEqual(['the first reconcile has not finished']);
    const result = await r.reconcile('startup');
    expect(result).toMatchObject({ result: 'changed', served: ['iris@1'], problems: [] });
    expect(statusOf(r.state)).toBe('ok');
    expect(notReadyReasons(r.state)).toEqual([]);
  });

  it('skips the reads when the ref has not moved, keeping the same served objects', async () => {
    const r = reconcilerOf(counted());
    await r.reconcile('startup');
    const before = r.state;
    const again = await r.reconcile('poll');
    expect(again.result).toBe('unchanged');
    expect(r.state).toBe(before);
  });

  it('reuses a compiled version whose pin did not change when other files move', async () => {
    const r = reconcilerOf(counted());
    await r.reconcile('startup');
    const model = r.state.models.get('iris');
    await writeFile(join(work, 'NOTES.md'), 'unrelated\n');
    await git(work, 'add', 'NOTES.md');
    await git(work, 'commit', '--quiet', '-m', 'unrelated');
    const head = await git(work, 'rev-parse', 'HEAD');
    await r.reconcile('poll');
    const after = r.state.models.get('iris');
    expect(after?.commit).toBe(head);
    expect(after?.predictor).toBe(model?.predictor);
  });

  it('runs a burst of reconciles as at most two, none lost', async () => {
    const source = counted();
    const r = reconcilerOf(source);
    const results = await Promise.all(Array.from({ length: 6 }, () => r.reconcile('webhook')));
    expect(source.calls).toBeLessThanOrEqual(2);
    expect(results.every((x) => x.served.join() === 'iris@1')).toBe(true);
  });

  it('keeps serving a model whose pins.json breaks, and reports why', async () => {
    const r = reconcilerOf(counted());
    await r.reconcile('startup');
    const good = r.state.models.get('iris')?.commit;
    const broken = await commitPins('iris', 'garbage');
    const result = await r.reconcile('poll');
    expect(result.result).toBe('failed');
    expect(r.state.commit).toBe(broken);
    expect(r.state.models.get('iris')?.commit).toBe(good);
    expect(r.state.problems[0]).toMatchObject({
      model: 'iris',
      code: 'E_REGISTRY',
      commit: broken,
    });
    expect(r.state.problems[0]?.message).toMatch(/pins\.json .* is not valid JSON/);
    expect(statusOf(r.state)).toBe('degraded');
    await commitPins('iris', 1);
    expect((await r.reconcile('poll')).problems).toEqual([]);
  });

  it('stops serving a model that is no longer pinned, and is then not ready', async () => {
    const r = reconcilerOf(counted());
    await r.reconcile('startup');
    await commitPins('iris', null);
    const result = await r.reconcile('poll');
    expect(result.served).toEqual([]);
    expect(notReadyReasons(r.state).join()).toMatch(/no model is pinned/);
    await commitPins('iris', 1);
  });

  it('reports a pin to a version that is not registered, serving nothing of that model yet', async () => {
    await commitPins('roses', 4);
    const r = reconcilerOf(counted());
    await r.reconcile('startup');
    expect(r.state.models.has('iris')).toBe(true);
    expect(r.state.problems).toEqual([
      expect.objectContaining({ model: 'roses', version: 4, code: 'E_REGISTRY' }) as unknown,
    ]);
    expect(notReadyReasons(r.state)).toEqual([
      'roses is pinned but no version of it could be loaded',
    ]);
    await git(work, 'rm', '--quiet', '-r', 'registry/roses');
    await git(work, 'commit', '--quiet', '-m', 'drop roses');
  });

  it('keeps serving when the repository cannot be read at all', async () => {
    let broken = false;
    const inner = localSource(work, 'main');
    const r = reconcilerOf({
      location: work,
      ref: 'main',
      head: () => (broken ? localSource(join(tmp, 'missing'), 'main').head() : inner.head()),
    });
    await r.reconcile('startup');
    broken = true;
    const result = await r.reconcile('poll');
    expect(result).toMatchObject({ result: 'failed', served: ['iris@1'] });
    expect(r.state.problems[0]?.message).toMatch(/^reading .* at main failed/);
    expect(notReadyReasons(r.state)).toEqual([]);
  });

  it('polls on its own until stopped', async () => {
    const source = counted();
    const r = reconcilerOf(source);
    r.start(20);
    const deadline = Date.now() + 10_000;
    while (source.calls < 3 && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    await r.stop();
    const calls = source.calls;
    expect(calls).toBeGreaterThanOrEqual(3);
    await new Promise((res) => setTimeout(res, 100));
    expect(source.calls).toBe(calls);
  });

  it('serves the canary and the shadow pins.json names, verified and compiled', async () => {
    const r = reconcilerOf(counted());
    await r.reconcile('startup');
    const head = await commitRoles({ canary: { version: 2, weight: 0.2 }, shadow: { version: 3 } });
    const result = await r.reconcile('poll');
    expect(result).toMatchObject({
      result: 'changed',
      served: ['iris@1'],
      roles: ['iris@2 canary 0.2', 'iris@3 shadow'],
      problems: [],
    });
    const roles = r.state.roles.get('iris');
    expect(roles?.canary?.weight).toBe(0.2);
    expect(roles?.canary?.model).toMatchObject({ name: 'iris', version: 2, commit: head });
    expect(roles?.shadow).toMatchObject({ name: 'iris', version: 3, commit: head });
    // The canary promoted: the compiled version is reused, not read again.
    const canary = roles?.canary?.model;
    await writeFile(
      join(work, 'registry/iris/pins.json'),
      canonicalJson({ formatVersion: 2, model: 'iris', production: 2, shadow: { version: 3 } }),
    );
    await git(work, 'commit', '--quiet', '-am', 'promote the canary');
    await r.reconcile('poll');
    expect(r.state.models.get('iris')?.predictor).toBe(canary?.predictor);
    expect(r.state.roles.get('iris')?.canary).toBeUndefined();
    await commitPins('iris', 1);
    expect((await r.reconcile('poll')).roles).toEqual([]);
    expect(r.state.roles.size).toBe(0);
  });

  it('keeps the previous canary when a new one fails to load, and stays ready', async () => {
    const r = reconcilerOf(counted());
    await commitRoles({ canary: { version: 2, weight: 0.1 } });
    await r.reconcile('startup');
    const broken = await commitRoles({
      canary: { version: 9, weight: 0.5 },
      shadow: { version: 8 },
    });
    const result = await r.reconcile('poll');
    expect(result.result).toBe('failed');
    expect(result.roles).toEqual(['iris@2 canary 0.1']);
    expect(r.state.problems).toEqual([
      expect.objectContaining({ model: 'iris', version: 9, pin: 'canary', commit: broken }),
      expect.objectContaining({ model: 'iris', version: 8, pin: 'shadow', commit: broken }),
    ]);
    expect(r.state.models.get('iris')?.version).toBe(1);
    expect(statusOf(r.state)).toBe('degraded');
    expect(notReadyReasons(r.state)).toEqual([]);
    await commitPins('iris', 1);
    expect((await r.reconcile('poll')).problems).toEqual([]);
  });
});
