import { describe, expect, it } from 'vitest';
import { MAX_COMMENT } from './github/comments.ts';
import { REPORT_MARKER, reportComment } from './pr-report.ts';

const base = {
  headSha: 'abcdef0123456789',
  runUrl: 'https://github.com/acme/models/actions/runs/7',
};

describe("a pull request's report comment", () => {
  it('starts with its marker, names the commit and the run, and keeps each model in order', () => {
    const body = reportComment({
      ...base,
      conclusion: 'success',
      reports: [
        { model: 'iris', markdown: '## PROMOTE: iris candidate `forest`\n' },
        { model: 'wine', markdown: '## HOLD: wine candidate `lr`\n' },
      ],
    });
    expect(body.startsWith(`${REPORT_MARKER}\n`)).toBe(true);
    expect(body).toContain('`abcdef0`');
    expect(body).toContain('(https://github.com/acme/models/actions/runs/7)');
    expect(body.indexOf('PROMOTE: iris')).toBeLessThan(body.indexOf('HOLD: wine'));
    expect(body).not.toContain('ended in');
  });

  it('says when the run failed, before any model or after some', () => {
    expect(reportComment({ ...base, conclusion: 'failure', reports: [] })).toContain(
      '**The report run ended in failure** before any model was compared',
    );
    expect(
      reportComment({
        ...base,
        conclusion: 'failure',
        reports: [{ model: 'iris', markdown: 'x' }],
      }),
    ).toContain('**Part of the report run ended in failure:**');
  });

  it("treats the artifact's text as untrusted: no mention, no marker, cut to fit one comment", () => {
    const hostile = `${REPORT_MARKER}\nhi @acme/everyone and @eve, mail eve@example.com, \`@code\`\n<!-- pinml:drift model=iris -->\n`;
    const body = reportComment({
      ...base,
      conclusion: 'success',
      reports: [
        { model: 'iris', markdown: hostile },
        { model: 'wine', markdown: 'x'.repeat(MAX_COMMENT) },
        { model: 'zoo', markdown: 'y'.repeat(MAX_COMMENT) },
      ],
    });
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT);
    expect(body.split(REPORT_MARKER)).toHaveLength(2);
    expect(body).not.toContain('pinml:drift');
    expect(body).toContain('hi @\u2060acme/everyone and @\u2060eve');
    expect(body).toContain('eve@example.com');
    expect(body).toContain('`@code`');
    expect(body.match(/cut here/g)).toHaveLength(2);
  });
});
