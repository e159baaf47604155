import { describe, expect, it } from 'vitest';
import { evaluate, interpolate } from './expressions.ts';
import { inputEnvName, parseOutputFile, parseWorkflowCommands } from './run-action.ts';
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
});
