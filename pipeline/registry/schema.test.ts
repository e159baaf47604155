import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../json.ts';
import { cardSchema, registryJsonSchemas } from './schema.ts';

describe('the registry JSON Schemas', () => {
  it('are committed in registry/ exactly as the pipeline generates them (npm run registry:schemas)', async () => {
    for (const [name, schema] of Object.entries(registryJsonSchemas())) {
      const committed = await readFile(new URL(`../../registry/${name}`, import.meta.url), 'utf8');
      expect(committed, `registry/${name} is stale: run npm run registry:schemas`).toBe(
        canonicalJson(schema),
      );
    }
  });

  it('require the fields a card must record', () => {
    const card = registryJsonSchemas()['card.schema.json'] as { required: string[] };
    for (const field of [
      'trainingKey',
      'dataset',
      'code',
      'metrics',
      'gate',
      'signature',
      'artifact',
      'decision',
    ]) {
      expect(card.required).toContain(field);
    }
  });

  it('make the reference profile optional, so a card registered without one stays valid', async () => {
    const card = registryJsonSchemas()['card.schema.json'] as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(card.properties).toHaveProperty('profile');
    expect(card.required).not.toContain('profile');
    const shipped = new URL('../../registry/iris/versions/1/card.json', import.meta.url);
    const old = JSON.parse(await readFile(shipped, 'utf8')) as Record<string, unknown>;
    expect(old).not.toHaveProperty('profile');
    expect(cardSchema.safeParse(old).success).toBe(true);
  });
});
