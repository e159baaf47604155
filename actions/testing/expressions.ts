/**
 * GitHub Actions expressions for the test harness, evaluated with GitHub's own evaluator
 * (`@actions/expressions`) over plain JavaScript contexts, and the workflow parser's tokens
 * (`${{ … }}` scalars, mappings, sequences) turned into values the way the runner does.
 *
 * Test helper only. Runs under vitest (the parser imports JSON without import attributes).
 */
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import {
  isBasicExpression,
  isBoolean,
  isLiteral,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from '@actions/workflow-parser';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';

/** A JSON value, as contexts hold them and expressions return them. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The named contexts of an expression (`github`, `matrix`, `needs`, `steps`, …). */
export type Contexts = Record<string, Json>;

/** How `success()`, `failure()`, `cancelled()` and `always()` answer where they are evaluated. */
export interface JobStatus {
  /** Whether an earlier step (or, for a job's `if`, a needed job) failed. */
  failed: boolean;
}

function statusFunctions(status: JobStatus): Map<string, FunctionDefinition> {
  const make = (name: string, value: () => boolean): [string, FunctionDefinition] => [
    name,
    { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value()) },
  ];
  return new Map([
    make('success', () => !status.failed),
    make('failure', () => status.failed),
    make('cancelled', () => false),
    make('always', () => true),
  ]);
}

function toData(value: Json): data.ExpressionData {
  return JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData;
}

function fromData(value: data.ExpressionData): Json {
  return JSON.parse(JSON.stringify(value, data.replacer) ?? 'null') as Json;
}

/** Evaluates one expression (without `${{ }}`) to a JSON value. */
export function evaluate(
  expression: string,
  contexts: Contexts,
  status: JobStatus = { failed: false },
): Json {
  const functions = statusFunctions(status);
  const parser = new Parser(
    new Lexer(expression).lex().tokens,
    Object.keys(contexts),
    [...functions.values()].map(({ name, minArgs, maxArgs }) => ({ name, minArgs, maxArgs })),
  );
  const dict = new data.Dictionary(
    ...Object.entries(contexts).map(([key, value]) => ({ key, value: toData(value) })),
  );
  return fromData(new Evaluator(parser.parse(), dict, functions).evaluate());
}

/** GitHub's truthiness: false, 0, -0, NaN, '' and null are false. */
export function truthy(value: Json): boolean {
  return !(
    value === false ||
    value === null ||
    value === '' ||
    (typeof value === 'number' && (value === 0 || Number.isNaN(value)))
  );
}

/** A value as the runner hands it to an action input or an output: JSON for objects. */
export function asString(value: Json): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

/** Evaluates a parsed workflow token (a scalar, mapping or sequence) to a JSON value. */
export function evaluateToken(token: TemplateToken, contexts: Contexts, status?: JobStatus): Json {
  if (isBasicExpression(token)) return evaluate(token.expression, contexts, status);
  if (isString(token)) return token.value;
  if (isNumber(token)) return token.value;
  if (isBoolean(token)) return token.value;
  if (isLiteral(token)) return null; // the only other literal is null
  if (isSequence(token)) return [...token].map((t) => evaluateToken(t, contexts, status));
  if (isMapping(token)) {
    const out: Record<string, Json> = {};
    for (const { key, value } of token) {
      out[asString(evaluateToken(key, contexts, status))] = evaluateToken(value, contexts, status);
    }
    return out;
  }
  throw new Error(`the harness cannot evaluate a ${token.typeName()} token`);
}

/**
 * Expands `${{ … }}` in a plain string (an action.yml default such as `${{ github.token }}`),
 * the way the runner does for action metadata.
 */
export function interpolate(text: string, contexts: Contexts): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expr: string) =>
    asString(evaluate(expr.trim(), contexts)),
  );
}
