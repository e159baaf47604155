/**
 * Annotations within GitHub's limits. GitHub shows at most 10 error and 10 warning annotations
 * per step and 50 per job, and drops the rest without a word; pinml's data errors can carry 20
 * located problems. So an action annotates up to the limits (keeping room for the error
 * `setFailed` adds), counts the job's annotations in a file under `RUNNER_TEMP` (one folder per
 * job, shared by its steps), and lists the rest in the job summary, where nothing is dropped.
 */
import * as core from '@actions/core';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** GitHub's limits: per kind per step, and all kinds over a job. */
export const STEP_LIMIT = 10;
export const JOB_LIMIT = 50;

export type AnnotationKind = 'error' | 'warning' | 'notice';

export interface Annotation {
  kind: AnnotationKind;
  message: string;
  properties: core.AnnotationProperties;
}

/** The job's annotation count so far (every step of the job adds to it). */
export interface JobCount {
  read(): number;
  add(n: number): void;
}

/** The count kept in `RUNNER_TEMP/pinml-annotations` (in memory when there is no RUNNER_TEMP). */
export function jobCountFile(env: NodeJS.ProcessEnv = process.env): JobCount {
  if (!env.RUNNER_TEMP) {
    let n = 0;
    return { read: () => n, add: (k) => void (n += k) };
  }
  const file = path.join(env.RUNNER_TEMP, 'pinml-annotations');
  const read = (): number => {
    try {
      return Number.parseInt(readFileSync(file, 'utf8'), 10) || 0;
    } catch {
      return 0;
    }
  };
  return { read, add: (k) => writeFileSync(file, String(read() + k)) };
}

type Emit = (a: Annotation) => void;

const emitWithCore: Emit = ({ kind, message, properties }) => {
  if (kind === 'error') core.error(message, properties);
  else if (kind === 'warning') core.warning(message, properties);
  else core.notice(message, properties);
};

/** Where an annotation points, for the summary: `data/iris.csv:8:3`. */
function where(p: core.AnnotationProperties): string {
  if (!p.file) return '';
  return [p.file, p.startLine, p.startColumn].filter((x) => x !== undefined).join(':');
}

export class Annotator {
  readonly #count: JobCount;
  readonly #emit: Emit;
  readonly #step: Record<AnnotationKind, number> = { error: 0, warning: 0, notice: 0 };
  readonly #overflow: Annotation[] = [];

  constructor(count: JobCount, emit: Emit = emitWithCore) {
    this.#count = count;
    this.#emit = emit;
  }

  /**
   * Annotates, or keeps the annotation for the summary once a limit is reached. `reserve` keeps
   * that many places of the kind free (the failing step's own error).
   */
  add(annotation: Annotation, reserve = 0): boolean {
    const { kind } = annotation;
    if (
      this.#step[kind] >= STEP_LIMIT - reserve ||
      this.#count.read() >= JOB_LIMIT - Math.min(reserve, 1)
    ) {
      this.#overflow.push(annotation);
      return false;
    }
    this.#step[kind] += 1;
    this.#count.add(1);
    this.#emit(annotation);
    return true;
  }

  /** Counts an annotation made elsewhere (`core.setFailed`'s error). */
  counted(kind: AnnotationKind): void {
    this.#step[kind] += 1;
    this.#count.add(1);
  }

  /** What did not fit. */
  get overflow(): readonly Annotation[] {
    return this.#overflow;
  }

  /** The job-summary section that lists what did not fit ('' when everything did). */
  summary(): string {
    const n = this.#overflow.length;
    if (n === 0) return '';
    const lines = this.#overflow.map((a) => {
      const at = where(a.properties);
      const title = a.properties.title ? `${a.properties.title}: ` : '';
      return `- ${a.kind}${at ? ` at \`${at}\`` : ''}: ${title}${a.message.replaceAll('\n', ' ')}`;
    });
    return [
      `### pinml: ${n} more annotation${n === 1 ? '' : 's'}`,
      '',
      `GitHub shows ${STEP_LIMIT} errors and ${STEP_LIMIT} warnings per step and ${JOB_LIMIT} annotations per job; these did not fit:`,
      '',
      ...lines,
      '',
    ].join('\n');
  }
}

let current: Annotator | undefined;

/** The step's annotator (one per process: an action's run is one step). */
export function annotations(): Annotator {
  current ??= new Annotator(jobCountFile());
  return current;
}
