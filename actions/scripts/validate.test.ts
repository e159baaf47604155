import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateAction, validateWorkflow } from './validate.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(root, 'actions', 'scripts', 'fixtures');

describe('workflow and action validation', async () => {
  const workflows = (await readdir(path.join(root, '.github', 'workflows'))).filter((f) =>
    f.endsWith('.yml'),
  );
  const actions = (await readdir(path.join(root, 'actions'), { withFileTypes: true }))
    .filter((d) => d.isDirectory() && existsSync(path.join(root, 'actions', d.name, 'action.yml')))
    .map((d) => d.name);

  it('finds the workflows and actions to check', () => {
    expect(workflows).toEqual(
      expect.arrayContaining([
        'ci.yml',
        'train.yml',
        'rollback.yml',
        'drift.yml',
        'monitor.yml',
        'report.yml',
        'report-comment.yml',
        'registry.yml',
        'release.yml',
      ]),
    );
    expect(actions).toEqual([
      'comment',
      'decide',
      'drift',
      'feedback',
      'monitor',
      'predict',
      'prepare',
      'promote',
      'register',
      'release',
      'rollback',
      'tag',
      'train',
    ]);
  });

  for (const name of workflows) {
    it(`accepts .github/workflows/${name}`, async () => {
      const file = path.join(root, '.github', 'workflows', name);
      expect(await validateWorkflow(name, await readFile(file, 'utf8'), root)).toEqual([]);
    });
  }

  for (const name of actions) {
    it(`accepts actions/${name}/action.yml`, async () => {
      const file = path.join(root, 'actions', name, 'action.yml');
      expect(validateAction(`${name}/action.yml`, await readFile(file, 'utf8'))).toEqual([]);
    });
  }

  it('runs CI on GitHub as .ci/run runs it, on every Node line past 20', async () => {
    const doc = parseYaml(await readFile(path.join(root, '.github/workflows/ci.yml'), 'utf8')) as {
      jobs: Record<
        string,
        {
          container?: string;
          strategy?: { 'fail-fast'?: boolean; matrix?: { node?: number[] } };
          steps: { run?: string; uses?: string; with?: Record<string, unknown> }[];
        }
      >;
    };
    const job = doc.jobs.test;
    expect(job?.container).toMatch(/^debian:bookworm/);
    expect(job?.strategy?.matrix?.node).toEqual([22, 24, 26]);
    expect(job?.strategy?.['fail-fast']).toBe(false);
    const steps = job?.steps ?? [];
    expect(steps.some((s) => s.run?.trim() === 'bash .ci/run')).toBe(true);
    const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(node?.with?.['node-version']).toBe('${{ matrix.node }}');
    // .ci/run itself calls the README's test command.
    expect(await readFile(path.join(root, '.ci/run'), 'utf8')).toMatch(/^npm test -- /m);
  });

  it('refuses a broken workflow, naming each mistake and its line', async () => {
    const content = await readFile(path.join(fixtures, 'broken-workflow.yml'), 'utf8');
    const findings = await validateWorkflow('broken-workflow.yml', content, root);
    const messages = findings.map((f) => `${f.line ?? '-'}: ${f.message}`).join('\n');
    expect(messages).toMatch(/Unexpected value 'workflow_dispach'/);
    expect(messages).toMatch(/Unexpected value 'runs-onn'/);
    expect(messages).toMatch(/actions\/checkout@v4 is not pinned/);
    expect(messages).toMatch(/\.\/actions\/nope has no action\.yml/);
    expect(messages).toMatch(/job "build" has no permissions/);
  });

  it("runs actionlint: what GitHub's parser accepts but would fail on GitHub", async () => {
    const content = await readFile(path.join(fixtures, 'lint-workflow.yml'), 'utf8');
    const findings = await validateWorkflow('lint-workflow.yml', content, root);
    const messages = findings.map((f) => `${f.line ?? '-'}: ${f.message}`).join('\n');
    expect(messages).toMatch(/^15: actionlint \[expression\]: property "missing" is not defined/m);
    expect(messages).toMatch(/^8: actionlint \[runner-label\]: .*"ubuntu-lastest"/m);
    expect(messages).toMatch(/^14: actionlint \[expression\]: property "model" is not defined/m);
    // GitHub's own parser saw nothing wrong: these are actionlint's alone.
    expect(findings.every((f) => f.message.startsWith('actionlint'))).toBe(true);
  });

  it('keeps the pinned actions and npm packages current with Dependabot', async () => {
    const doc = parseYaml(await readFile(path.join(root, '.github/dependabot.yml'), 'utf8')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string; schedule: { interval: string } }[];
    };
    expect(doc.version).toBe(2);
    const ecosystems = doc.updates.map((u) => `${u['package-ecosystem']} ${u.directory}`);
    expect(ecosystems.sort()).toEqual(['github-actions /', 'npm /']);
    for (const u of doc.updates)
      expect(['daily', 'weekly', 'monthly']).toContain(u.schedule.interval);
  });

  it('refuses a broken action.yml', async () => {
    const content = await readFile(path.join(fixtures, 'broken-action.yml'), 'utf8');
    const messages = validateAction('broken-action.yml', content)
      .map((f) => f.message)
      .join('\n');
    expect(messages).toMatch(/Unexpected value 'foo'/);
    expect(messages).toMatch(/not node24/);
    expect(messages).toMatch(/inputs\.model has no description/);
  });
});
