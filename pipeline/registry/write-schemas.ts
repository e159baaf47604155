/**
 * Writes the registry's JSON Schemas (`registry/card.schema.json`, `registry/pins.schema.json`)
 * from the zod schemas the pipeline checks entries with. `npm run registry:schemas`; a test
 * fails when the committed files are stale.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../json.ts';
import { registryJsonSchemas } from './schema.ts';

const registryDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'registry',
);

for (const [name, schema] of Object.entries(registryJsonSchemas())) {
  await writeFile(path.join(registryDir, name), canonicalJson(schema));
  console.log(`wrote registry/${name}`);
}
