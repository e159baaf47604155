import { describe, expect, it } from 'vitest';
import { evaluate, interpolate } from './expressions.ts';
import {
  inputEnvName,
  limitAnnotations,
  parseOutputFile,
  parseWorkflowCommands,
} from './run-action.ts';
import { startsRuns } from './events.ts';
import { runStrategy, strategyOptions } from './strategy.ts';
import { expandMatrix, globToRegExp, triggers } from './workflow-runner.ts';

describe('the runner environment', () => {
  it('names input variables as the runner does: upper case, spaces to _, hyphens kept', () => {
    expect(inputEnvName('github-token')).toBe('INPUT_GITHUB-TOKEN');
    expect(inputEnvName('run dir')).toBe('INPUT_RUN_DIR');
  });

  it('parses GITHUB_OUTPUT in both the heredoc and the name=value forms', () => {
    const file = [
      'report<<ghadelimiter_1',
      '# title',
      '',
      'a=b',
      'ghadelimiter_1',
      'plain=x=y',
      'empty<<EOF',
      'EOF',
      '',
    ].join('\n');
    expect(parseOutputFile(file)).toEqual({ report: '# title\n\na=b', plain: 'x=y', empty: '' });
    expect(() => parseOutputFile('x<<EOF\nnever closed\n')).toThrow(/no closing delimiter/);
  });

  it('reads workflow commands with their escaped properties and messages', () => {
    const [error, mask] = parseWorkflowCommands(
      'log line\n::error title=pinml%3A x,file=data/a.csv,line=8::two%0Alines 100%25\n::add-mask::s3cret\n',
    );
    expect(error).toEqual({
      command: 'error',
      properties: { title: 'pinml: x', file: 'data/a.csv', line: '8' },
      message: 'two\nlines 100%',
    });
    expect(mask).toEqual({ command: 'add-mask', properties: {}, message: 's3cret' });
  });
});

describe('annotations, as GitHub shows them', () => {
  it('keeps 10 errors and 10 warnings of a step and drops the rest', () => {
    const lines = Array.from({ length: 12 }, (_, i) => `::error::e${i}\n::warning::w${i}\n`);
    const { shown, dropped } = limitAnnotations(parseWorkflowCommands(lines.join('')));
    expect(shown.filter((c) => c.command === 'error')).toHaveLength(10);
    expect(shown.filter((c) => c.command === 'warning')).toHaveLength(10);
    expect(dropped.map((c) => c.message)).toEqual(['e10', 'w10', 'e11', 'w11']);
  });
});

describe('expressions', () => {
  const contexts = {
    github: { token: 'ghs_x', event_name: 'push' },
    secrets: { GITHUB_TOKEN: 'ghs_x' },
    needs: { prepare: { outputs: { matrix: '{"include":[{"model":"iris"}]}' } } },
    steps: { decide: { outputs: { gate: 'passed' } } },
    inputs: {},
  };

  it('falls back from a missing secret to the job token', () => {
    expect(evaluate('secrets.PINML_TOKEN || github.token', contexts)).toBe('ghs_x');
  });

  it('parses job outputs with fromJSON and interpolates action.yml defaults', () => {
    expect(evaluate('fromJSON(needs.prepare.outputs.matrix)', contexts)).toEqual({
      include: [{ model: 'iris' }],
    });
    expect(interpolate('${{ github.token }}', contexts)).toBe('ghs_x');
    expect(evaluate('inputs.model', contexts)).toBeNull();
  });

  it('answers status functions from the job status', () => {
    const condition = "success() && (steps.decide.outputs.gate == 'passed')";
    expect(evaluate(condition, contexts)).toBe(true);
    expect(evaluate(condition, contexts, { failed: true })).toBe(false);
    expect(evaluate('always()', contexts, { failed: true })).toBe(true);
  });
});

describe('strategy.matrix', () => {
  it('makes one job per include entry when there are no axes', () => {
    const include = [
      { model: 'iris', candidate: 'a' },
      { model: 'iris', candidate: 'b' },
    ];
    expect(expandMatrix({ include })).toEqual(include);
  });

  it('crosses the axes, drops exclusions and extends combinations with include', () => {
    expect(
      expandMatrix({
        os: ['linux', 'mac'],
        node: [20, 24],
        exclude: [{ os: 'mac', node: 20 }],
        include: [
          { node: 24, experimental: true },
          { os: 'windows', node: 24 },
        ],
      }),
    ).toEqual([
      { os: 'linux', node: 20 },
      { os: 'linux', node: 24, experimental: true },
      { os: 'mac', node: 24, experimental: true },
      { os: 'windows', node: 24 },
    ]);
  });

  it('refuses a matrix that expands to no job', () => {
    expect(() => expandMatrix({ include: [] })).toThrow(/no job/);
    expect(() => expandMatrix('nope')).toThrow(/must be a mapping/);
  });
});

describe('workflow triggers', () => {
  const events = { push: { branches: ['main'], paths: ['data/**', 'pinml.yaml'] } };

  it('matches push paths filters', () => {
    expect(globToRegExp('data/**').test('data/a/b.csv')).toBe(true);
    expect(globToRegExp('*.yml').test('dir/a.yml')).toBe(false);
    const push = { name: 'push' as const, sha: 'x' };
    expect(triggers(events, { ...push, changed: ['data/iris.csv'] })).toBe(true);
    expect(triggers(events, { ...push, changed: ['pinml.yaml', 'README.md'] })).toBe(true);
    expect(triggers(events, { ...push, changed: ['registry/iris/pins.json'] })).toBe(false);
    expect(triggers(events, { ...push, ref: 'refs/heads/dev', changed: ['pinml.yaml'] })).toBe(
      false,
    );
    expect(triggers(events, { name: 'workflow_dispatch', sha: 'x' })).toBe(false);
  });

  it('keeps branch and tag pushes apart as GitHub does: a filter of one ignores the other', () => {
    const push = { name: 'push' as const, sha: 'x', changed: ['a.ts'] };
    const tags = { push: { tags: ['v*'] } };
    expect(triggers(tags, { ...push, ref: 'refs/tags/v1.2.0' })).toBe(true);
    expect(triggers(tags, { ...push, ref: 'refs/tags/latest' })).toBe(false);
    expect(triggers(tags, { ...push, ref: 'refs/heads/main' })).toBe(false);
    expect(triggers(events, { ...push, ref: 'refs/tags/v1.2.0', changed: ['data/x.csv'] })).toBe(
      false,
    );
    // Neither filtered: both run; a tag's paths are not evaluated.
    expect(triggers({ push: {} }, { ...push, ref: 'refs/tags/v1.2.0' })).toBe(true);
    expect(triggers({ push: { paths: ['data/**'] } }, { ...push, ref: 'refs/tags/v1' })).toBe(true);
    expect(
      triggers(
        { push: { tags: ['v*'], 'tags-ignore': ['v*-rc*'] } },
        { ...push, ref: 'refs/tags/v2.0.0-rc1' },
      ),
    ).toBe(false);
  });

  it('matches workflow_run by the completed workflow’s name, type and branch', () => {
    const on = { workflow_run: { workflows: ['report'], types: ['completed'] } };
    const done = {
      name: 'workflow_run' as const,
      workflow: 'report',
      action: 'completed' as const,
    };
    expect(triggers(on, { ...done, branch: 'fewer-rows' })).toBe(true);
    expect(triggers(on, { ...done, workflow: 'train', branch: 'x' })).toBe(false);
    expect(
      triggers(
        { workflow_run: { workflows: ['report'], branches: ['main'] } },
        { ...done, branch: 'x' },
      ),
    ).toBe(false);
  });

  it('matches pull requests by base branch, paths and types (opened, synchronize, reopened)', () => {
    const on = { pull_request: { branches: ['main'], 'paths-ignore': ['docs/**'] } };
    const pr = { name: 'pull_request' as const, action: 'opened', base: 'main' };
    expect(triggers(on, { ...pr, changed: ['registry/iris/pins.json'] })).toBe(true);
    expect(triggers(on, { ...pr, action: 'synchronize', changed: ['a.ts'] })).toBe(true);
    expect(triggers(on, { ...pr, action: 'closed', changed: ['a.ts'] })).toBe(false);
    expect(triggers(on, { ...pr, base: 'dev', changed: ['a.ts'] })).toBe(false);
    expect(triggers(on, { ...pr, changed: ['docs/x.md'] })).toBe(false);
    expect(triggers({ pull_request: { types: ['closed'] } }, { ...pr, changed: [] })).toBe(false);
    expect(triggers(events, { ...pr, changed: ['data/iris.csv'] })).toBe(false);
  });

  it("starts nothing from what GITHUB_TOKEN did, except a dispatch (GitHub's rule)", () => {
    const push = { name: 'push' as const, ref: 'refs/heads/main', before: 'a', after: 'b', at: 0 };
    expect(startsRuns({ ...push, by: 'GITHUB_TOKEN' })).toBe(false);
    expect(startsRuns({ ...push, by: 'token' })).toBe(true);
    expect(startsRuns({ ...push, by: 'developer' })).toBe(true);
    const opened = { name: 'pull_request' as const, action: 'opened' as const, number: 1 };
    expect(startsRuns({ ...opened, base: 'main', head: 'x', by: 'GITHUB_TOKEN', at: 0 })).toBe(
      false,
    );
    expect(
      startsRuns({ name: 'workflow_dispatch', ref: 'refs/heads/main', by: 'GITHUB_TOKEN', at: 0 }),
    ).toBe(true);
    expect(
      startsRuns({ name: 'repository_dispatch', type: 'retrain', by: 'GITHUB_TOKEN', at: 0 }),
    ).toBe(true);
  });
});

describe('strategy: fail-fast and max-parallel', () => {
  /** Legs that take turns: each waits for a tick, and leg `failing` fails. */
  function legs(failing: number | undefined, steps = 2) {
    const log: string[] = [];
    const run = async (index: number, cancelled: () => string | undefined) => {
      log.push(`start ${index}`);
      for (let step = 0; step < steps; step++) {
        if (cancelled() !== undefined) {
          log.push(`cancel ${index}`);
          return { name: `leg ${index}`, result: 'cancelled' as const };
        }
        await new Promise((resolve) => setImmediate(resolve));
        if (index === failing) return { name: `leg ${index}`, result: 'failure' as const };
      }
      return { name: `leg ${index}`, result: 'success' as const };
    };
    const skip = (index: number, reason: string) => {
      log.push(`never ${index}: ${reason}`);
      return { name: `leg ${index}`, result: 'cancelled' as const };
    };
    return { log, run, skip };
  }

  it('reads GitHub defaults: fail-fast true, max-parallel every leg', () => {
    expect(strategyOptions(null, 3)).toEqual({ failFast: true, maxParallel: 3 });
    expect(strategyOptions({ 'fail-fast': false, 'max-parallel': 8 }, 3)).toEqual({
      failFast: false,
      maxParallel: 3,
    });
    expect(() => strategyOptions({ 'max-parallel': 0 }, 3)).toThrow(/max-parallel.*not 0/);
    expect(() => strategyOptions({ 'fail-fast': 'yes' }, 3)).toThrow(/fail-fast.*"yes"/);
  });

  it('runs at most max-parallel legs at once, in order', async () => {
    const { log, run, skip } = legs(undefined);
    const results = await runStrategy(3, { failFast: true, maxParallel: 1 }, run, skip);
    expect(results.map((r) => r.result)).toEqual(['success', 'success', 'success']);
    expect(log).toEqual(['start 0', 'start 1', 'start 2']);
  });

  it('with fail-fast, cancels the queued legs and the legs in progress when one fails', async () => {
    const { log, run, skip } = legs(0, 3);
    const results = await runStrategy(4, { failFast: true, maxParallel: 2 }, run, skip);
    expect(results.map((r) => r.result)).toEqual([
      'failure',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    const reason = 'The strategy configuration was canceled because "leg 0" failed';
    // Leg 1 was in progress (cancelled before its next step); legs 2 and 3 never started.
    expect([...log].sort()).toEqual([
      'cancel 1',
      `never 2: ${reason}`,
      `never 3: ${reason}`,
      'start 0',
      'start 1',
    ]);
  });

  it('with fail-fast: false, lets every leg run to its end', async () => {
    const { run, skip } = legs(0, 3);
    const results = await runStrategy(4, { failFast: false, maxParallel: 2 }, run, skip);
    expect(results.map((r) => r.result)).toEqual(['failure', 'success', 'success', 'success']);
  });
});
