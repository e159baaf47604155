/**
 * pinml's errors: one base class with a stable `code` and JSON-safe `data`, and a subclass
 * only where a caller branches on it. Messages say what was wrong, where, and what to do.
 */

/** A located problem: where it is (file, line, column, field) and what is wrong. */
export interface Problem {
  /** The file the problem is in, as the user named it (repository-relative where possible). */
  file: string;
  /** 1-based line in the file. */
  line?: number;
  /** 1-based column (character) in the line, for text formats such as YAML. */
  col?: number;
  /** The data column's name, for tabular files. */
  column?: string;
  /** The dotted path of a field, for structured files (`models.iris.split.folds`). */
  field?: string;
  /** What is wrong and what to do. */
  message: string;
}

/** Renders a problem as `file:line:col: [column "x"] [field] message`, the shape editors link. */
export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}`;
  if (p.line !== undefined && p.col !== undefined) where += `:${p.col}`;
  const parts = [where + ':'];
  if (p.column !== undefined) parts.push(`column "${p.column}":`);
  if (p.field !== undefined) parts.push(`${p.field}:`);
  parts.push(p.message);
  return parts.join(' ');
}

export type ErrorCode =
  | 'E_USAGE'
  | 'E_CONFIG'
  | 'E_DATA'
  | 'E_MODEL_FORMAT'
  | 'E_RUN_FOLDER'
  | 'E_TRAINING'
  | 'E_REGISTRY'
  | 'E_LOG_STORE'
  | 'E_DRIFT'
  | 'E_MONITOR'
  | 'E_GIT'
  | 'E_GITHUB';

export type ErrorData = Record<string, unknown>;

/** The base of every error pinml raises on purpose. */
export class PinmlError extends Error {
  readonly code: ErrorCode;
  readonly data: ErrorData;
  constructor(code: ErrorCode, message: string, data: ErrorData = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
  toJSON(): { code: ErrorCode; message: string; data: ErrorData } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** The caller used a command wrongly (exit code 2). */
export class UsageError extends PinmlError {
  constructor(message: string, data: ErrorData = {}) {
    super('E_USAGE', message, data);
  }
}

/** At most this many problems are reported at once; the rest are counted. */
export const MAX_PROBLEMS = 20;

function summarise(title: string, problems: readonly Problem[], total: number): string {
  const lines = problems.map((p) => `  ${formatProblem(p)}`);
  if (total > problems.length) lines.push(`  … and ${total - problems.length} more`);
  return `${title}\n${lines.join('\n')}`;
}

/** An error that carries every located problem found (up to {@link MAX_PROBLEMS}). */
abstract class ProblemsError extends PinmlError {
  readonly problems: readonly Problem[];
  constructor(
    code: ErrorCode,
    title: string,
    problems: readonly Problem[],
    total = problems.length,
  ) {
    const kept = problems.slice(0, MAX_PROBLEMS);
    super(code, summarise(title, kept, total), { problems: kept, total });
    this.problems = kept;
  }
}

/** `pinml.yaml` (or another configuration file) is not valid. */
export class ConfigError extends ProblemsError {
  constructor(problems: readonly Problem[], total = problems.length) {
    const file = problems[0]?.file ?? 'configuration';
    super(
      'E_CONFIG',
      `${file} is not valid (${total} problem${total === 1 ? '' : 's'}):`,
      problems,
      total,
    );
  }
}

/** A dataset is refused; every problem found is listed. */
export class DataError extends ProblemsError {
  constructor(problems: readonly Problem[], total = problems.length) {
    const file = problems[0]?.file ?? 'dataset';
    super(
      'E_DATA',
      `${file} cannot be used for training (${total} problem${total === 1 ? '' : 's'}):`,
      problems,
      total,
    );
  }
}

/** A model artifact is not one this release can load (wrong kind, format version or shape). */
export class ModelFormatError extends PinmlError {
  constructor(message: string, data: ErrorData = {}) {
    super('E_MODEL_FORMAT', message, data);
  }
}

/** A training run folder is missing, incomplete or inconsistent. */
export class RunFolderError extends PinmlError {
  constructor(message: string, data: ErrorData = {}) {
    super('E_RUN_FOLDER', message, data);
  }
}

/**
 * Why a git operation failed, for callers that branch on it: a push rejected because the
 * remote moved (`not-fast-forward`) is retried; `permission` names the permission needed.
 */
export type GitFailure =
  | 'not-found'
  | 'not-fast-forward'
  | 'permission'
  | 'auth'
  | 'network'
  | 'conflict'
  | 'dirty'
  | 'other';

/** A git operation failed; `data.reason` says why. */
export class GitError extends PinmlError {
  readonly reason: GitFailure;
  constructor(reason: GitFailure, message: string, data: ErrorData = {}, options?: ErrorOptions) {
    super('E_GIT', message, { ...data, reason }, options);
    this.reason = reason;
  }
}

/** A registry entry is missing, corrupt or cannot be written as asked. */
export class RegistryError extends PinmlError {
  constructor(message: string, data: ErrorData = {}) {
    super('E_REGISTRY', message, data);
  }
}

/** GitHub refused or failed a request; `data.status` is the HTTP status. */
export class GitHubError extends PinmlError {
  constructor(message: string, data: ErrorData = {}) {
    super('E_GITHUB', message, data);
  }
}
