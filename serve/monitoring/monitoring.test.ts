/**
 * The monitoring files as files: every alert has a `for:`, a severity and its annotations, and
 * a firing and a non-firing case in alerts.test.yml; the dashboard's panel ids are unique, it
 * states its schemaVersion and has the datasource and model variables; and every series the
 * rules and the dashboard name is one the server exports. (promtool and a real Prometheus run
 * them in prometheus.system.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../metrics.ts';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const read = (name: string) => readFile(path.join(HERE, name), 'utf8');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alert_rule_test: { alertname: string; exp_alerts: unknown[] }[];
}
interface Panel {
  id: number;
  title: string;
  datasource: { uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}

const rules = (parse(await read('alerts.yml')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const tests = (parse(await read('alerts.test.yml')) as { tests: AlertTest[] }).tests.flatMap(
  (t) => t.alert_rule_test,
);
const dashboard = JSON.parse(await read('dashboard.json')) as {
  schemaVersion: number;
  uid: string;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
};

/** The metric names an expression reads (identifiers followed by `{`, `[` or `)`, not functions). */
function seriesOf(expr: string): string[] {
  return [...expr.matchAll(/\b(pinml_[a-z0-9_]+|up)\b/g)].map((m) => m[1] as string);
}

describe('the alert rules', () => {
  it('give every alert a for:, a severity and a summary, description and runbook', () => {
    expect(rules.length).toBeGreaterThanOrEqual(13);
    for (const r of rules) {
      expect(r.for, r.alert).toMatch(/^\d+[mh]$/);
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels?.severity);
      expect(Object.keys(r.annotations ?? {}).sort(), r.alert).toEqual([
        'description',
        'runbook',
        'summary',
      ]);
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('have a firing and a non-firing promtool case for every alert', () => {
    for (const r of rules) {
      const cases = tests.filter((t) => t.alertname === r.alert);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${r.alert} firing`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${r.alert} not firing`,
      ).toBe(true);
    }
    const names = new Set(rules.map((r) => r.alert));
    expect(tests.filter((t) => !names.has(t.alertname))).toEqual([]);
  });
});

describe('the dashboard', () => {
  it('has unique panel ids, a schemaVersion, and the datasource and model variables on every query', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['model', 'query'],
    ]);
    for (const p of dashboard.panels) {
      expect(p.datasource.uid, p.title).toBe('${datasource}');
      for (const t of p.targets) expect(t.datasource.uid, p.title).toBe('${datasource}');
    }
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const topic of [
      'request',
      'error',
      'latency',
      'class mix',
      'live accuracy',
      'canary',
      'reconcile',
      'drift',
    ]) {
      expect(titles).toContain(topic);
    }
  });
});

describe('the series the rules and the dashboard read', () => {
  it('are all exported by the server', async () => {
    const exported = new Set(
      (await createMetrics({ defaults: false }).registry.getMetricsAsJSON()).flatMap((m) =>
        String(m.type) === 'histogram'
          ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
          : [m.name],
      ),
    );
    exported.add('up'); // Prometheus's own, per target
    const used = [
      ...rules.flatMap((r) => seriesOf(r.expr)),
      ...dashboard.panels.flatMap((p) => p.targets.flatMap((t) => seriesOf(t.expr))),
    ];
    expect([...new Set(used)].filter((name) => !exported.has(name))).toEqual([]);
  });
});
