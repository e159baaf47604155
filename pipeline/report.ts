/**
 * The promotion report: what a reviewer reads before merging a promotion pull request.
 * Built as a plain data object ({@link buildReport}), rendered as GitHub-flavoured markdown
 * for a pull request body or a job summary ({@link renderReportMarkdown}) and as canonical
 * JSON for scripts ({@link renderReportJson}). Pure.
 *
 * The markdown puts the decision and its reasons first, then the metric table (production,
 * candidate, difference, interval) and the significance test; the long parts (per-class
 * changes, confusion matrices, dataset change, candidates) fold in `<details>`; lineage and a
 * mermaid chart of hold-out accuracy across the production history close it. Whatever the
 * number of classes, candidates or versions, it stays within GitHub's 65,536-character body
 * limit: it drops detail step by step until it fits and says what it left out.
 */
import type { CompareConfig } from './config.ts';
import type { Decision, PairedComparison } from './compare.ts';
import { canonicalJson } from './json.ts';
import type { Label } from './label.ts';
import type { RunRecord } from './train.ts';

/** GitHub's limit on a pull request (and issue) body, in characters. */
export const GITHUB_BODY_LIMIT = 65_536;

export const REPORT_FORMAT_VERSION = 1;

/** What is known of a dataset version: the one a model was trained on. */
export interface DatasetFacts {
  sha256: string;
  rows: number;
  classCounts: Record<string, number>;
}

/** A point of the production history: a version that became production, and its accuracy. */
export interface HistoryPoint {
  version: number;
  /** `promote` or `rollback` (the pin went back to this version). */
  kind: 'promote' | 'rollback';
  /** The hold-out accuracy recorded in the version's card (on its own hold-out). */
  accuracy: number;
}

/** The promotion report as data; {@link renderReportJson} writes exactly this. */
export interface PromotionReport {
  formatVersion: typeof REPORT_FORMAT_VERSION;
  model: string;
  decision: Decision;
  policy: Pick<CompareConfig, 'policy' | 'tolerance' | 'alpha' | 'resamples' | 'seed'>;
  candidate: {
    /** The version it was registered as, when it was. */
    version: number | null;
    name: string;
    algorithm: string;
    trainingKey: string;
    gate: { passed: boolean; reasons: string[] };
    /** Its own hold-out figures, from the run. */
    holdout: { rows: number; accuracy: number; macroF1: number };
  };
  production: null | {
    version: number;
    name: string;
    algorithm: string;
    trainingKey: string;
  };
  classes: Label[];
  /** The paired comparison on the rows both were scored on; null without one. */
  comparison: PairedComparison | null;
  dataset: {
    path: string;
    current: DatasetFacts;
    /** What production was trained on; null without production. */
    production: DatasetFacts | null;
    changed: boolean;
  };
  /** Every candidate tried, best first (mean CV macro-F1, then accuracy, then configuration order). */
  candidates: {
    name: string;
    algorithm: string;
    cvMacroF1: number;
    cvMacroF1Std: number;
    cvAccuracy: number;
    chosen: boolean;
  }[];
  lineage: {
    /** The commit the candidate was trained at. */
    commit: string | null;
    codeVersion: string;
    datasetSha256: string;
    /** The production version it would replace. */
    parentVersion: number | null;
  };
  /** Production versions in the order they were pinned, oldest first. */
  history: HistoryPoint[];
  /** Facts the reviewer should know (dataset change, rows left out of the comparison, …). */
  notes: string[];
}

export interface BuildReportInput {
  record: RunRecord;
  decision: Decision;
  commit: string | null;
  production: null | {
    version: number;
    name: string;
    algorithm: string;
    trainingKey: string;
    dataset: DatasetFacts;
  };
  comparison: PairedComparison | null;
  history: readonly HistoryPoint[];
  notes?: readonly string[];
}

/**
 * The report of a run's comparison with production. It is built before the candidate is
 * registered, so its `candidate.version` is null: the renderers take the version (see
 * {@link RenderOptions}).
 */
export function buildReport(input: BuildReportInput): PromotionReport {
  const { record } = input;
  const order = record.config.candidates.map((c) => c.name);
  const candidates = [...record.candidates]
    .sort(
      (a, b) =>
        b.cv.mean.macroF1 - a.cv.mean.macroF1 ||
        b.cv.mean.accuracy - a.cv.mean.accuracy ||
        order.indexOf(a.name) - order.indexOf(b.name),
    )
    .map((c) => ({
      name: c.name,
      algorithm: c.algorithm,
      cvMacroF1: c.cv.mean.macroF1,
      cvMacroF1Std: c.cv.std.macroF1,
      cvAccuracy: c.cv.mean.accuracy,
      chosen: c.name === record.chosen.name,
    }));
  const current = {
    sha256: record.dataset.sha256,
    rows: record.dataset.rows,
    classCounts: record.dataset.classCounts,
  };
  const { dataset: productionDataset, ...production } = input.production ?? { dataset: null };
  return {
    formatVersion: REPORT_FORMAT_VERSION,
    model: record.model,
    decision: input.decision,
    policy: {
      policy: record.config.compare.policy,
      tolerance: record.config.compare.tolerance,
      alpha: record.config.compare.alpha,
      resamples: record.config.compare.resamples,
      seed: record.config.compare.seed,
    },
    candidate: {
      version: null,
      name: record.chosen.name,
      algorithm: record.chosen.algorithm,
      trainingKey: record.chosen.trainingKey,
      gate: { passed: record.gate.passed, reasons: record.gate.reasons },
      holdout: {
        rows: record.chosen.holdout.rows,
        accuracy: record.chosen.holdout.accuracy,
        macroF1: record.chosen.holdout.macroF1,
      },
    },
    production: input.production
      ? (production as NonNullable<PromotionReport['production']>)
      : null,
    classes: record.signature.label.classes,
    comparison: input.comparison,
    dataset: {
      path: record.dataset.path,
      current,
      production: productionDataset,
      changed: productionDataset !== null && productionDataset.sha256 !== current.sha256,
    },
    candidates,
    lineage: {
      commit: input.commit,
      codeVersion: record.code.id,
      datasetSha256: record.dataset.sha256,
      parentVersion: input.production?.version ?? null,
    },
    history: [...input.history],
    notes: [...(input.notes ?? [])],
  };
}

/** What every rendering of the report may be told. */
export interface RenderOptions {
  /** The version the candidate was registered as, once it was (it then shows in the lineage). */
  version?: number | null;
}

/** The report with the version it is rendered with. */
function withVersion(report: PromotionReport, options: RenderOptions): PromotionReport {
  const version = options.version ?? report.candidate.version;
  return version === report.candidate.version
    ? report
    : { ...report, candidate: { ...report.candidate, version } };
}

/** The report as canonical JSON (sorted keys, 2-space indent, final newline). */
export function renderReportJson(report: PromotionReport, options: RenderOptions = {}): string {
  return canonicalJson(withVersion(report, options));
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** How much detail a rendering keeps; the renderer tries these in order until one fits. */
interface Detail {
  /** Candidates listed (best first; the chosen one always). */
  candidates: number;
  /** Classes listed in the per-class and class-count tables. */
  classes: number;
  /** Full confusion matrices up to this many classes; beyond, the largest confusions. */
  matrixClasses: number;
  /** Off-diagonal cells listed when the matrices are not shown in full. */
  confusions: number;
  /** Points of the history chart (the latest). */
  history: number;
  /** Reasons and notes kept, and the characters of each. */
  sentences: number;
  sentenceChars: number;
}

const DETAILS: readonly Detail[] = [
  {
    candidates: Infinity,
    classes: Infinity,
    matrixClasses: 30,
    confusions: 50,
    history: 50,
    sentences: 50,
    sentenceChars: 2000,
  },
  {
    candidates: 50,
    classes: 50,
    matrixClasses: 20,
    confusions: 30,
    history: 40,
    sentences: 30,
    sentenceChars: 1000,
  },
  {
    candidates: 20,
    classes: 20,
    matrixClasses: 12,
    confusions: 20,
    history: 30,
    sentences: 20,
    sentenceChars: 500,
  },
  {
    candidates: 5,
    classes: 10,
    matrixClasses: 5,
    confusions: 10,
    history: 20,
    sentences: 10,
    sentenceChars: 300,
  },
];

/** Longest label shown; longer ones are shortened (the JSON report has them whole). */
const LABEL_CHARS = 40;

const f4 = (x: number): string => (Object.is(x, -0) ? 0 : x).toFixed(4);
const signed = (x: number): string => {
  const r = Number(x.toFixed(4));
  return r > 0 ? `+${r.toFixed(4)}` : r < 0 ? `−${Math.abs(r).toFixed(4)}` : '0.0000';
};
const pValue = (p: number): string => (p < 0.0001 ? p.toExponential(2) : p.toFixed(4));
const short = (sha: string): string => sha.slice(0, 12);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Text made safe for a markdown paragraph or table cell: no line breaks, no live syntax. */
function text(value: string, max = Infinity): string {
  let s = value.replace(/\s+/g, ' ').trim();
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  return s.replace(/[\\`*_[\]<>|~&#!]/g, (c) => `\\${c}`);
}

/** Text for an HTML block (`<summary>`), where markdown is not rendered: HTML escapes only. */
function html(value: string): string {
  return value
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A class label for display (shortened past {@link LABEL_CHARS}). */
function label(value: Label): string {
  return text(String(value), LABEL_CHARS);
}

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  align?: string[],
): string {
  const sep = head.map((_, i) => align?.[i] ?? '---');
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function details(summary: string, body: string): string {
  return `<details>\n<summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

const ACTION_WORD: Record<Decision['action'], string> = {
  promote: 'PROMOTE',
  hold: 'HOLD',
  reject: 'REJECT',
  unchanged: 'UNCHANGED',
};

function classesToShow(report: PromotionReport, limit: number, cut: string[]): number[] {
  const all = report.classes.map((_, i) => i);
  if (all.length <= limit) return all;
  const perClass = report.comparison?.perClass;
  const changeOf = (i: number): number => Math.abs(perClass?.[i]?.delta.f1 ?? 0);
  const supportOf = (i: number): number => perClass?.[i]?.support ?? 0;
  const kept = [...all]
    .sort((a, b) => changeOf(b) - changeOf(a) || supportOf(b) - supportOf(a) || a - b)
    .slice(0, limit)
    .sort((a, b) => a - b);
  cut.push(
    `per-class figures of ${all.length - kept.length} of ${all.length} classes (those with the smallest F1 change)`,
  );
  return kept;
}

function renderMetrics(report: PromotionReport): string {
  const cmp = report.comparison;
  const cand = report.candidate;
  if (!cmp || !report.production) {
    return (
      table(
        ['metric', 'candidate'],
        [
          ['accuracy', f4(cand.holdout.accuracy)],
          ['macro-F1', f4(cand.holdout.macroF1)],
        ],
        ['---', '---:'],
      ) +
      `\n\nOn the candidate's own ${plural(cand.holdout.rows, 'hold-out row')}; ` +
      (report.production
        ? 'no paired comparison with production (see the reasons).'
        : 'there is no production version to compare with.')
    );
  }
  const level = `${Math.round(cmp.bootstrap.confidence * 1000) / 10}%`;
  const row = (name: string, f: PairedComparison['accuracy']): string[] => [
    name,
    f4(f.production),
    f4(f.candidate),
    signed(f.delta),
    `[${signed(f.interval.low)}, ${signed(f.interval.high)}]`,
  ];
  const t = cmp.mcnemar;
  return [
    table(
      [
        'metric',
        `production v${report.production.version}`,
        'candidate',
        'Δ',
        `${level} interval of Δ`,
      ],
      [row('accuracy', cmp.accuracy), row('macro-F1', cmp.macroF1)],
      ['---', '---:', '---:', '---:', '---'],
    ),
    '',
    `Both models scored on the same ${plural(cmp.rows, 'hold-out row')}. ` +
      `Exact McNemar test: p = ${pValue(t.pValue)} (α = ${t.alpha}; ${t.significant ? 'significant' : 'not significant'}); ` +
      `production alone right on ${plural(t.productionOnly, 'row')}, the candidate alone on ${plural(t.candidateOnly, 'row')}. ` +
      `Intervals: percentile bootstrap, ${cmp.bootstrap.resamples} resamples of paired rows, seed ${cmp.bootstrap.seed} (${cmp.bootstrap.prng}).`,
  ].join('\n');
}

function renderPerClass(report: PromotionReport, d: Detail, cut: string[]): string | null {
  const cmp = report.comparison;
  if (!cmp) return null;
  const shown = classesToShow(report, d.classes, cut);
  const rows = shown.map((i) => {
    const c = cmp.perClass[i] as PairedComparison['perClass'][number];
    return [
      label(c.class),
      String(c.support),
      f4(c.production.recall),
      f4(c.candidate.recall),
      f4(c.production.f1),
      f4(c.candidate.f1),
      signed(c.delta.f1),
    ];
  });
  return details(
    `Per-class changes (${shown.length === cmp.perClass.length ? '' : `${shown.length} of `}${plural(cmp.perClass.length, 'class', 'classes')})`,
    table(['class', 'rows', 'recall prod.', 'recall cand.', 'F1 prod.', 'F1 cand.', 'Δ F1'], rows, [
      '---',
      '---:',
      '---:',
      '---:',
      '---:',
      '---:',
      '---:',
    ]),
  );
}

function matrix(classes: readonly Label[], m: readonly (readonly number[])[]): string {
  return table(
    ['true \\ predicted', ...classes.map(label)],
    m.map((row, i) => [`**${label(classes[i] as Label)}**`, ...row.map(String)]),
    ['---', ...classes.map(() => '---:')],
  );
}

function renderConfusion(report: PromotionReport, d: Detail, cut: string[]): string {
  const cmp = report.comparison;
  const classes = report.classes;
  const k = classes.length;
  const candidate = cmp?.candidate.confusion;
  const production = cmp?.production.confusion;
  const title = cmp
    ? `Confusion matrices on the ${plural(cmp.rows, 'compared row')} (rows: true class, columns: predicted)`
    : 'Confusion matrix';
  if (!candidate || !production) {
    return details(
      title,
      'The confusion matrix of the candidate on its own hold-out is in its run record (`run.json`) and card.',
    );
  }
  if (k <= d.matrixClasses) {
    return details(
      title,
      [
        `**Production v${report.production?.version ?? '?'}**`,
        '',
        matrix(classes, production),
        '',
        '**Candidate**',
        '',
        matrix(classes, candidate),
      ].join('\n'),
    );
  }
  const cells: { t: number; p: number; prod: number; cand: number }[] = [];
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      if (t === p) continue;
      const prod = production[t]?.[p] ?? 0;
      const cand = candidate[t]?.[p] ?? 0;
      if (prod > 0 || cand > 0) cells.push({ t, p, prod, cand });
    }
  }
  cells.sort(
    (a, b) => Math.max(b.prod, b.cand) - Math.max(a.prod, a.cand) || a.t - b.t || a.p - b.p,
  );
  const shown = cells.slice(0, d.confusions);
  cut.push(
    `the full ${k}×${k} confusion matrices (shown as the ${plural(shown.length, 'largest confusion')} of ${cells.length})`,
  );
  return details(
    `Largest confusions on the ${plural(cmp.rows, 'compared row')} (${k} classes: the full matrices are in the JSON report)`,
    shown.length === 0
      ? 'Neither model confuses any class.'
      : table(
          ['true class', 'predicted as', 'production', 'candidate', 'Δ'],
          shown.map((c) => [
            label(classes[c.t] as Label),
            label(classes[c.p] as Label),
            String(c.prod),
            String(c.cand),
            c.cand - c.prod > 0
              ? `+${c.cand - c.prod}`
              : c.cand - c.prod < 0
                ? `−${c.prod - c.cand}`
                : '0',
          ]),
          ['---', '---', '---:', '---:', '---:'],
        ),
  );
}

function renderDataset(report: PromotionReport, d: Detail, cut: string[]): string {
  const { current, production, path, changed } = report.dataset;
  const v = report.production?.version;
  const summary = production
    ? changed
      ? `Dataset changed since production v${v} was trained: ${short(production.sha256)} → ${short(current.sha256)}`
      : `Dataset unchanged since production v${v} was trained (${short(current.sha256)})`
    : `Dataset ${short(current.sha256)}`;
  const head = production
    ? table(
        ['', `production v${v} was trained on`, 'the candidate was trained on'],
        [
          ['sha256', `\`${production.sha256}\``, `\`${current.sha256}\``],
          ['rows', String(production.rows), String(current.rows)],
        ],
      )
    : table(
        ['', 'the candidate was trained on'],
        [
          ['sha256', `\`${current.sha256}\``],
          ['rows', String(current.rows)],
        ],
      );
  const names = [
    ...new Set([
      ...Object.keys(production?.classCounts ?? {}),
      ...Object.keys(current.classCounts),
    ]),
  ];
  const before = (c: string): number => production?.classCounts[c] ?? 0;
  const now = (c: string): number => current.classCounts[c] ?? 0;
  let shown = names;
  if (names.length > d.classes) {
    shown = [...names]
      .sort(
        (a, b) =>
          Math.abs(now(b) - before(b)) - Math.abs(now(a) - before(a)) ||
          names.indexOf(a) - names.indexOf(b),
      )
      .slice(0, d.classes)
      .sort((a, b) => names.indexOf(a) - names.indexOf(b));
    cut.push(
      `class counts of ${names.length - shown.length} of ${names.length} classes (those that changed least)`,
    );
  }
  const counts = production
    ? table(
        ['class', `v${v}`, 'now', 'Δ'],
        shown.map((c) => {
          const delta = now(c) - before(c);
          return [
            label(c),
            String(before(c)),
            String(now(c)),
            delta > 0 ? `+${delta}` : delta < 0 ? `−${-delta}` : '0',
          ];
        }),
        ['---', '---:', '---:', '---:'],
      )
    : table(
        ['class', 'rows'],
        shown.map((c) => [label(c), String(now(c))]),
        ['---', '---:'],
      );
  return details(`${html(summary)} (<code>${html(path)}</code>)`, `${head}\n\n${counts}`);
}

function renderCandidates(report: PromotionReport, d: Detail, cut: string[]): string {
  const all = report.candidates;
  let shown = all.slice(0, d.candidates);
  const chosen = all.find((c) => c.chosen);
  if (chosen && !shown.includes(chosen)) shown = [...shown, chosen];
  if (shown.length < all.length) {
    cut.push(
      `${plural(all.length - shown.length, 'candidate')} of ${all.length} (the lowest CV macro-F1)`,
    );
  }
  return details(
    `Candidates tried (${shown.length === all.length ? '' : `best ${shown.length} of `}${all.length}), best first by mean cross-validated macro-F1`,
    table(
      ['candidate', 'algorithm', 'CV macro-F1', '± sd', 'CV accuracy', ''],
      shown.map((c) => [
        text(c.name),
        text(c.algorithm),
        f4(c.cvMacroF1),
        f4(c.cvMacroF1Std),
        f4(c.cvAccuracy),
        c.chosen ? '**chosen**' : '',
      ]),
      ['---', '---', '---:', '---:', '---:', '---'],
    ),
  );
}

function renderLineage(report: PromotionReport): string {
  const { lineage, candidate, production } = report;
  return [
    `- candidate: \`${text(candidate.name)}\` (${text(candidate.algorithm)}), training key \`${short(candidate.trainingKey)}\`` +
      (candidate.version === null
        ? ''
        : `, registered as **${text(report.model)}@${candidate.version}**`),
    `- trained at commit ${lineage.commit ? `\`${short(lineage.commit)}\`` : 'unknown'}, code version \`${text(lineage.codeVersion)}\``,
    `- dataset \`${text(report.dataset.path)}\` sha256 \`${lineage.datasetSha256}\``,
    `- parent version: ${lineage.parentVersion === null ? 'none (no production version yet)' : `${text(report.model)}@${lineage.parentVersion} (production${production ? `, ${text(production.name)}, training key \`${short(production.trainingKey)}\`` : ''})`}`,
  ].join('\n');
}

/** Mermaid `xychart-beta` of hold-out accuracy: production versions in pin order, then the candidate. */
export function historyChart(
  report: PromotionReport,
  maxPoints = 50,
): { chart: string; cut: number } {
  const points = report.history.map((h) => ({
    label: h.kind === 'rollback' ? `v${h.version} (rollback)` : `v${h.version}`,
    accuracy: h.accuracy,
  }));
  const room = Math.max(1, maxPoints - 1);
  const cut = Math.max(0, points.length - room);
  const shown = [
    ...points.slice(cut),
    { label: 'candidate', accuracy: report.candidate.holdout.accuracy },
  ];
  const values = shown.map((p) => p.accuracy);
  const low = Math.max(0, Math.floor((Math.min(...values) - 0.02) * 20) / 20);
  const chart = [
    'xychart-beta',
    '  title "Hold-out accuracy: production history, then the candidate"',
    `  x-axis [${shown.map((p) => `"${p.label}"`).join(', ')}]`,
    `  y-axis "hold-out accuracy" ${low.toFixed(2)} --> 1`,
    `  line [${values.map((v) => Number(v.toFixed(4))).join(', ')}]`,
  ].join('\n');
  return { chart, cut };
}

function renderHistory(report: PromotionReport, d: Detail, cut: string[]): string {
  const { chart, cut: dropped } = historyChart(report, d.history);
  if (dropped > 0)
    cut.push(`the ${plural(dropped, 'earliest point')} of the production history chart`);
  return [
    '```mermaid',
    chart,
    '```',
    '',
    report.history.length === 0
      ? 'No version has been in production yet.'
      : `Each production version at its own registration-time hold-out accuracy, in the order it was pinned (${plural(report.history.length, 'change')}); the candidate on its hold-out.`,
  ].join('\n');
}

function sentences(items: readonly string[], d: Detail, what: string, cut: string[]): string[] {
  const kept = items.slice(0, d.sentences).map((s) => text(s, d.sentenceChars));
  if (items.length > kept.length) cut.push(`${plural(items.length - kept.length, what)}`);
  if (items.some((s) => s.length > d.sentenceChars))
    cut.push(`the end of ${what}s longer than ${d.sentenceChars} characters`);
  return kept;
}

function render(report: PromotionReport, d: Detail): string {
  const cut: string[] = [];
  const { decision } = report;
  const against = report.production
    ? ` vs production ${text(report.model)}@${report.production.version}`
    : '';
  const parts: string[] = [
    `## ${ACTION_WORD[decision.action]}: ${text(report.model)} candidate \`${text(report.candidate.name)}\`${against}`,
    '',
    ...sentences(decision.reasons, d, 'reason', cut).map((r) => `- ${r}`),
    '',
    `Policy \`${report.policy.policy}\` (tolerance ${report.policy.tolerance}, α ${report.policy.alpha}); ` +
      `gate ${report.candidate.gate.passed ? 'passed' : 'failed'}.`,
  ];
  const notes = sentences(report.notes, d, 'note', cut);
  if (notes.length > 0) parts.push('', notes.map((n) => `> **Note:** ${n}`).join('\n>\n'));
  parts.push('', '### Metrics', '', renderMetrics(report));
  const perClass = renderPerClass(report, d, cut);
  if (perClass) parts.push('', perClass);
  parts.push('', renderConfusion(report, d, cut));
  parts.push('', renderDataset(report, d, cut));
  parts.push('', renderCandidates(report, d, cut));
  parts.push('', '### Lineage', '', renderLineage(report));
  parts.push('', '### Production history', '', renderHistory(report, d, cut));
  if (cut.length > 0) {
    parts.push(
      '',
      `**Left out** (to keep the report readable and within GitHub's ${GITHUB_BODY_LIMIT.toLocaleString('en-US')}-character limit; the JSON report has everything): ${cut.map((c) => text(c)).join('; ')}.`,
    );
  }
  return parts.join('\n') + '\n';
}

/** The last resort: the decision, the metric table and what was left out. */
function renderMinimal(report: PromotionReport, maxChars: number): string {
  const reasons = report.decision.reasons.slice(0, 5).map((r) => `- ${text(r, 300)}`);
  const body = [
    `## ${ACTION_WORD[report.decision.action]}: ${text(report.model, 64)} candidate \`${text(report.candidate.name, 64)}\``,
    '',
    ...reasons,
    '',
    '### Metrics',
    '',
    renderMetrics(report),
    '',
    `**Left out to stay within ${maxChars} characters:** everything but the decision and the metrics (the JSON report has everything).`,
    '',
  ].join('\n');
  return body;
}

/**
 * The smallest limit accepted: the last-resort rendering (decision, five reasons of at most
 * 300 characters, the metric table) always fits in it.
 */
export const MIN_CHARS = 4096;

export interface MarkdownOptions extends RenderOptions {
  /** The longest body allowed, in UTF-16 code units (at least the character count). */
  maxChars?: number;
}

/**
 * The report as GitHub-flavoured markdown, at the most detail that fits within `maxChars`
 * (GitHub's body limit by default); what had to be left out is listed at the end.
 */
export function renderReportMarkdown(
  report: PromotionReport,
  options: MarkdownOptions = {},
): string {
  const maxChars = options.maxChars ?? GITHUB_BODY_LIMIT;
  if (maxChars < MIN_CHARS) {
    throw new RangeError(`maxChars must be at least ${MIN_CHARS}, got ${maxChars}`);
  }
  const versioned = withVersion(report, options);
  for (const d of DETAILS) {
    const markdown = render(versioned, d);
    if (markdown.length <= maxChars) return markdown;
  }
  return renderMinimal(versioned, maxChars);
}

/** The decision in a few plain lines for a terminal or a log (the markdown has the rest). */
export function renderDecisionText(report: PromotionReport): string {
  const cmp = report.comparison;
  const against = report.production
    ? `production ${report.model}@${report.production.version}`
    : 'no production version';
  const lines = [
    `A/B ${report.model} (${report.candidate.name}) vs ${against}: ${report.decision.action}`,
    ...report.decision.reasons.map((r) => `  ${r}`),
    ...report.notes.map((n) => `  note: ${n}`),
  ];
  if (cmp) {
    const level = `${Math.round(cmp.bootstrap.confidence * 1000) / 10}%`;
    lines.push(
      `  accuracy ${f4(cmp.accuracy.production)} → ${f4(cmp.accuracy.candidate)} (Δ ${signed(cmp.accuracy.delta)}, ${level} [${signed(cmp.accuracy.interval.low)}, ${signed(cmp.accuracy.interval.high)}]); ` +
        `macro-F1 ${f4(cmp.macroF1.production)} → ${f4(cmp.macroF1.candidate)}; McNemar p ${pValue(cmp.mcnemar.pValue)} on ${cmp.rows} rows`,
    );
  }
  return lines.join('\n') + '\n';
}
