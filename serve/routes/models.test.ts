import { describe, expect, it } from 'vitest';

import { COMMIT_HEADER, VERSION_HEADER } from '../answer/respond.ts';
import { COMMIT_A, COMMIT_B } from '../testing/fixtures.ts';
import { forest, two } from '../testing/routes.ts';

describe('GET /models', () => {
  it('lists the served models with pin, commit, card summary and signature', async () => {
    const res = await two.request('/models');
    expect(res.headers.get(VERSION_HEADER)).toBe('iris@1, iris-lr@2');
    const body = (await res.json()) as { models: Record<string, unknown>[] };
    expect(body.models.map((m) => [m.name, m.version, m.commit, m.kind])).toEqual([
      ['iris', 1, COMMIT_A, 'ml-random-forest'],
      ['iris-lr', 2, COMMIT_B, 'logistic-regression'],
    ]);
    expect(body.models[0]).toMatchObject({
      signature: forest.card.signature,
      card: {
        trainingKey: forest.card.trainingKey,
        artifact: forest.card.artifact,
        candidate: forest.card.candidate,
      },
    });
    const single = await two.request('/models/iris-lr');
    expect(single.status).toBe(200);
    expect(single.headers.get(VERSION_HEADER)).toBe('iris-lr@2');
    expect(single.headers.get(COMMIT_HEADER)).toBe(COMMIT_B);
    const unknown = await two.request('/models/roses');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'model_not_found' });
  });
});
