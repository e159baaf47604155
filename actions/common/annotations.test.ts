import { describe, expect, it } from 'vitest';
import { Annotator, JOB_LIMIT, STEP_LIMIT, type Annotation, type JobCount } from './annotations.ts';

function memoryCount(start = 0): JobCount {
  let n = start;
  return { read: () => n, add: (k) => void (n += k) };
}

const problem = (row: number): Annotation => ({
  kind: 'error',
  message: `the value "x" is not a number`,
  properties: { title: 'pinml: column "petal_length"', file: 'data/iris.csv', startLine: row },
});

describe("annotations within GitHub's limits", () => {
  it('annotates 9 located errors of 20 (leaving the failing step its own), the rest to the summary', () => {
    const emitted: Annotation[] = [];
    const annotator = new Annotator(memoryCount(), (a) => emitted.push(a));
    for (let row = 2; row < 22; row++) annotator.add(problem(row), 1);
    expect(emitted).toHaveLength(STEP_LIMIT - 1);
    expect(emitted.map((a) => a.properties.startLine)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(annotator.overflow).toHaveLength(11);
    const summary = annotator.summary();
    expect(summary).toMatch(/^### pinml: 11 more annotations\n/);
    expect(summary).toContain(
      '- error at `data/iris.csv:11`: pinml: column "petal_length": the value "x" is not a number',
    );
    expect(summary).toContain('`data/iris.csv:21`');
    expect(summary).not.toContain('`data/iris.csv:10`');
  });

  it('counts errors and warnings apart within a step', () => {
    const emitted: Annotation[] = [];
    const annotator = new Annotator(memoryCount(), (a) => emitted.push(a));
    for (let i = 0; i < 12; i++) {
      annotator.add({ kind: 'warning', message: `w${i}`, properties: {} });
      annotator.add({ kind: 'error', message: `e${i}`, properties: {} });
    }
    expect(emitted.filter((a) => a.kind === 'warning')).toHaveLength(STEP_LIMIT);
    expect(emitted.filter((a) => a.kind === 'error')).toHaveLength(STEP_LIMIT);
    expect(annotator.summary()).toContain('- warning: w10');
  });

  it("stops at the job's 50, counting the earlier steps' annotations", () => {
    const count = memoryCount(JOB_LIMIT - 3);
    const emitted: Annotation[] = [];
    const annotator = new Annotator(count, (a) => emitted.push(a));
    for (let i = 0; i < 5; i++)
      annotator.add({ kind: 'warning', message: `w${i}`, properties: {} });
    expect(emitted).toHaveLength(3);
    expect(count.read()).toBe(JOB_LIMIT);
    // A failing step keeps one place for its own error even at the job's limit.
    const failing = new Annotator(memoryCount(JOB_LIMIT - 1), () => undefined);
    expect(failing.add(problem(2), 1)).toBe(false);
  });

  it('has nothing to summarise when everything fits', () => {
    const annotator = new Annotator(memoryCount(), () => undefined);
    annotator.add(problem(2), 1);
    expect(annotator.summary()).toBe('');
  });
});
