/**
 * The boundaries of ARCHITECTURE.md hold as lint rules (`eslint.config.js`): a forbidden import
 * planted in each place makes its rule fail the lint, and the tree as it is lints clean. And the
 * errors of `errors.ts`: every code is raised somewhere, and a usage error is one class.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './testing/runtimes.ts';

/** The rules that draw the boundaries; the others (types, style) are the lint's own business. */
const BOUNDARY_RULES = new Set([
  'import-x/no-restricted-paths',
  'import-x/no-cycle',
  'import-x/no-extraneous-dependencies',
  'no-restricted-imports',
  'no-restricted-properties',
  'no-restricted-syntax',
  'max-lines',
]);

/**
 * The repository's ESLint configuration with only the boundary rules. None needs types, so the
 * project service is off: a planted file need not exist or be in tsconfig.json, and the whole
 * tree lints in seconds instead of the type-aware lint's half minute.
 */
const eslint = new ESLint({
  cwd: repoRoot,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => BOUNDARY_RULES.has(ruleId),
});

/** `rule: message` of every problem lint finds in `code` as if it were the file `file`. */
async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  if (!result) throw new Error(`ESLint returned nothing for ${file}`);
  return describeAll(result.messages);
}

function describeAll(messages: readonly Linter.LintMessage[]): string[] {
  return messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

/** A planted file and the rule it must break, or `null` where the rules allow it. */
interface Plant {
  what: string;
  file: string;
  code: string;
  rule: string | null;
}

// The planted Node internal is named in pieces, so this file itself names no private module
// (a scan of the source for one would find these strings otherwise); the lint sees the whole name.
const NODE_PREFIX = 'node:';
const INTERNAL = ['_http', 'common'].join('_');
const PLANTS: Plant[] = [
  {
    what: 'pipeline/ importing serve/',
    file: 'pipeline/planted.ts',
    code: "export { createApp } from '../serve/app.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'pipeline/ importing actions/ (a test too)',
    file: 'pipeline/registry/planted.test.ts',
    code: "export { required } from '../../actions/common/action.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'serve/ importing actions/',
    file: 'serve/planted.ts',
    code: "export { required } from '../actions/common/action.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'actions/ importing serve/ (a test too)',
    file: 'actions/train/planted.test.ts',
    code: "export { createApp } from '../../serve/app.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'a leaf file importing a step',
    file: 'pipeline/dataset.ts',
    code: "export { parseConfig } from './config.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'a model family importing a step',
    file: 'pipeline/models/planted.ts',
    code: "export { trainModel } from '../train.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'git/ importing another leaf',
    file: 'pipeline/git/planted.ts',
    code: "export { parseDataset } from '../dataset.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'a leaf importing errors.ts, json.ts and label.ts',
    file: 'pipeline/metrics.ts',
    code:
      "export { PinmlError } from './errors.ts';\nexport { sha256 } from './json.ts';\n" +
      "export type { Label } from './label.ts';\n",
    rule: null,
  },
  {
    what: 'a leaf’s test importing a step',
    file: 'pipeline/models/planted.test.ts',
    code: "export { trainModel } from '../train.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'a leaf’s test using another leaf as a fixture',
    file: 'pipeline/models/planted.test.ts',
    code: "export { readDataset } from '../dataset.ts';\n",
    rule: null,
  },
  {
    what: 'a step importing the CLI',
    file: 'pipeline/registry/planted.ts',
    code: "export { main } from '../cli/main.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'a step’s test importing the CLI',
    file: 'pipeline/planted.test.ts',
    code: "export { main } from './cli/main.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'a step importing the demo',
    file: 'pipeline/planted.ts',
    code: "export { jitteredRows } from './demo/jittered-rows.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'a step’s test running the CLI through its test helper',
    file: 'pipeline/planted.test.ts',
    code: "export { pinml } from './testing/run-cli.ts';\n",
    rule: null,
  },
  {
    what: 'product code importing a test helper',
    file: 'pipeline/planted.ts',
    code: "export { pinml } from './testing/run-cli.ts';\n",
    rule: 'import-x/no-restricted-paths',
  },
  {
    what: 'an import of a Node internal',
    file: 'serve/planted.ts',
    code: `export { chunkExpression } from '${NODE_PREFIX}${INTERNAL}';\n`,
    rule: 'no-restricted-imports',
  },
  {
    what: 'an import of a Node internal without node:',
    file: 'pipeline/planted.test.ts',
    code: `import '${INTERNAL}';\n`,
    rule: 'no-restricted-imports',
  },
  {
    what: 'a dynamic import of a Node internal',
    file: 'actions/planted.ts',
    code: `export const http = await import('${NODE_PREFIX}${INTERNAL}');\n`,
    rule: 'no-restricted-syntax',
  },
  {
    what: 'process.env under pipeline/models',
    file: 'pipeline/models/random-forest/planted.ts',
    code: 'export const threads = process.env.PINML_TRAIN_THREADS;\n',
    rule: 'no-restricted-properties',
  },
  {
    what: 'env from node:process under pipeline/models',
    file: 'pipeline/models/planted.ts',
    code: "export { env } from 'node:process';\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'process.env at the edge (the CLI)',
    file: 'pipeline/cli/planted.ts',
    code: 'export const threads = process.env.PINML_TRAIN_THREADS;\n',
    rule: null,
  },
  {
    what: 'a package that only arrives with another',
    file: 'pipeline/planted.ts',
    code: "export { default as debug } from 'debug';\n",
    rule: 'import-x/no-extraneous-dependencies',
  },
  {
    what: 'a devDependency in product code',
    file: 'serve/planted.ts',
    code: "export { expect } from 'vitest';\n",
    rule: 'import-x/no-extraneous-dependencies',
  },
  {
    what: 'an undeclared types-only package',
    file: 'pipeline/planted.test.ts',
    code: "export type { Node } from 'unist';\n",
    rule: 'import-x/no-extraneous-dependencies',
  },
  {
    what: 'a usage error that is not a UsageError',
    file: 'pipeline/planted.ts',
    code: "import { PinmlError } from './errors.ts';\nthrow new PinmlError('E_USAGE', 'no');\n",
    rule: 'no-restricted-syntax',
  },
  {
    what: 'a source file of 401 lines of code',
    file: 'pipeline/planted.ts',
    code: Array.from({ length: 401 }, (_, i) => `export const x${i} = ${i};\n`).join(''),
    rule: 'max-lines',
  },
  {
    what: 'a test of 401 lines of code',
    file: 'pipeline/planted.test.ts',
    code: Array.from({ length: 401 }, (_, i) => `export const x${i} = ${i};\n`).join(''),
    rule: null,
  },
];

describe('the boundaries are lint rules', () => {
  for (const plant of PLANTS) {
    const verdict = plant.rule === null ? 'passes' : `fails with ${plant.rule}`;
    it(`${verdict}: ${plant.what} (${plant.file})`, async () => {
      const found = await problems(plant.file, plant.code);
      if (plant.rule === null) expect(found).toEqual([]);
      else expect(found.filter((p) => p.startsWith(`${plant.rule}: `))).toHaveLength(1);
      expect(found.filter((p) => p.startsWith('fatal: '))).toEqual([]);
    });
  }

  it('fails with import-x/no-cycle on two modules that import each other', async () => {
    // The cycle rule reads the other module from disk, so these two are real, for a moment.
    const dir = await mkdtemp(path.join(repoRoot, 'pipeline', 'planted-cycle-'));
    try {
      const a = path.join(dir, 'a.ts');
      await writeFile(a, "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n");
      await writeFile(
        path.join(dir, 'b.ts'),
        "import { a } from './a.ts';\nexport const b = (): number => a() - 1;\n",
      );
      const [result] = await eslint.lintFiles([a]);
      expect(describeAll(result?.messages ?? [])).toEqual([
        'import-x/no-cycle: Dependency cycle detected',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('passes on the tree as it is', async () => {
    const results = await eslint.lintFiles(['.']);
    const found = results.flatMap((r) =>
      describeAll(r.messages).map((p) => `${path.relative(repoRoot, r.filePath)}: ${p}`),
    );
    expect(found).toEqual([]);
    // The tree was linted, not skipped: the layers' own files are among those read.
    const linted = new Set(results.map((r) => path.relative(repoRoot, r.filePath)));
    for (const file of ['pipeline/dataset.ts', 'serve/app.ts', 'actions/common/action.ts']) {
      expect(linted).toContain(file);
    }
  });
});

/** The product's source files (no tests, test helpers, fixtures or bundles), repo-relative. */
async function productSources(): Promise<string[]> {
  const files: string[] = [];
  for (const top of ['pipeline', 'serve', 'actions']) {
    for (const entry of await readdir(path.join(repoRoot, top), { recursive: true })) {
      const file = `${top}/${entry}`;
      const parts = file.split('/');
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      if (parts.some((p) => ['testing', 'fixtures', 'dist', 'node_modules'].includes(p))) continue;
      files.push(file);
    }
  }
  return files.sort();
}

describe('the errors', () => {
  it('raises every error code somewhere in the product, by its class or by name', async () => {
    const errors = await readFile(path.join(repoRoot, 'pipeline', 'errors.ts'), 'utf8');
    const union = /export type ErrorCode =([^;]+);/.exec(errors)?.[1] ?? '';
    const codes = [...union.matchAll(/'(E_[A-Z_]+)'/g)].map((m) => m[1] as string);
    expect(codes).toContain('E_USAGE');
    // The class whose constructor passes each code, e.g. UsageError for E_USAGE.
    const classOf = new Map<string, string>();
    for (const part of errors.split(/(?=\bclass \w+ extends )/)) {
      const cls = /^class (\w+) extends /.exec(part)?.[1];
      const code = /super\(\s*'(E_[A-Z_]+)'/.exec(part)?.[1];
      if (cls !== undefined && code !== undefined) classOf.set(code, cls);
    }
    expect(classOf.get('E_USAGE')).toBe('UsageError');
    const sources = await Promise.all(
      (await productSources())
        .filter((f) => f !== 'pipeline/errors.ts')
        .map((f) => readFile(path.join(repoRoot, f), 'utf8')),
    );
    const raised = (code: string): boolean => {
      const cls = classOf.get(code);
      return sources.some(
        (text) => text.includes(`'${code}'`) || (cls !== undefined && text.includes(`new ${cls}(`)),
      );
    };
    expect(codes.filter((code) => !raised(code))).toEqual([]);
  });

  it('has one usage error class: E_USAGE is raised only as a UsageError', async () => {
    const files = await productSources();
    const named: string[] = [];
    for (const file of files) {
      const text = await readFile(path.join(repoRoot, file), 'utf8');
      if (file !== 'pipeline/errors.ts' && text.includes("'E_USAGE'")) named.push(file);
      for (const m of text.matchAll(/class (\w*Usage\w*) extends/g)) named.push(`${file}: ${m[1]}`);
    }
    expect(named).toEqual(['pipeline/errors.ts: UsageError']);
  });
});
