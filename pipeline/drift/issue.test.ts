import { describe, expect, it } from 'vitest';
import type { OpenIssue } from '../github/issues.ts';
import { planDriftIssue, reportHeadline } from './issue.ts';

const REPORT = '## Drift in iris@3: 3 of 4 features drifted (high)\n\n| feature | … |\n';
const CLEAR = '\n## No drift in iris@3: 0 of 4 features drifted\n\nDetails.\n';

const issue = (model: string, number: number, report = REPORT): OpenIssue => ({
  number,
  title: `Drift detected in ${model}`,
  body: `<!-- pinml:drift model=${model} -->\n${report}`,
  labels: ['pinml', 'drift'],
  url: `https://github.com/acme/models/issues/${number}`,
});

describe('planDriftIssue', () => {
  it('opens the issue labelled pinml and drift, the marker above the report', () => {
    expect(planDriftIssue({ model: 'iris', drift: true, report: REPORT, open: [] })).toEqual({
      operation: 'created',
      title: 'Drift detected in iris',
      labels: ['pinml', 'drift'],
      body: `<!-- pinml:drift model=iris -->\n${REPORT}`,
    });
  });

  it('leaves the issue alone for the same report and updates it for another', () => {
    const open = [issue('wine', 3), issue('iris', 5)];
    expect(planDriftIssue({ model: 'iris', drift: true, report: REPORT, open })).toMatchObject({
      operation: 'unchanged',
      number: 5,
    });
    expect(
      planDriftIssue({ model: 'iris', drift: true, report: `${REPORT}more\n`, open }),
    ).toMatchObject({ operation: 'updated', number: 5 });
  });

  it("closes the model's issue, and only it, with the clearing report's headline", () => {
    const open = [issue('wine', 3), issue('iris', 5)];
    expect(planDriftIssue({ model: 'iris', drift: false, report: CLEAR, open })).toEqual({
      operation: 'closed',
      issues: [{ number: 5, url: 'https://github.com/acme/models/issues/5' }],
      comment:
        'Drift in iris has cleared: No drift in iris@3: 0 of 4 features drifted\n\n' +
        'Closed by pinml; a new issue opens if drift comes back.\n',
    });
    expect(
      planDriftIssue({ model: 'iris', drift: false, report: CLEAR, open: [issue('wine', 3)] }),
    ).toEqual({ operation: 'none' });
  });
});

describe('reportHeadline', () => {
  it('is the first line with text, without heading marks', () => {
    expect(reportHeadline('\n\n### Drift: high  \nbody')).toBe('Drift: high');
    expect(reportHeadline('plain first line\n# later')).toBe('plain first line');
    expect(reportHeadline('')).toBe('no drift');
  });
});
