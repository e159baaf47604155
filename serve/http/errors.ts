/**
 * The server's answer to a request it will not serve: an HTTP status, a stable `code` a client
 * can branch on and, for bad input, the `field` at fault. Thrown by handlers, turned into JSON
 * by the app's `onError`; anything else thrown is our bug and answers 500 without details.
 */

/** Why a request was refused. */
export type RequestErrorCode =
  | 'invalid_json'
  | 'invalid_input'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'model_not_found'
  | 'version_not_found'
  | 'model_not_ready'
  | 'invalid_signature'
  | 'webhook_disabled'
  | 'admin_disabled'
  | 'unauthorized'
  | 'log_off'
  | 'log_unavailable'
  | 'not_found';

const STATUS: Record<RequestErrorCode, number> = {
  invalid_json: 400,
  invalid_input: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  model_not_found: 404,
  version_not_found: 404,
  model_not_ready: 503,
  invalid_signature: 401,
  webhook_disabled: 404,
  admin_disabled: 404,
  unauthorized: 401,
  log_off: 404,
  log_unavailable: 503,
  not_found: 404,
};

/** An error's body: `error` is a string, as the Open Inference Protocol's and KServe's errors. */
export interface ErrorBody {
  error: string;
  code: RequestErrorCode | 'internal';
  field?: string;
}

/** A refused request: `status` 4xx (or 503 while nothing can answer). */
export class RequestError extends Error {
  readonly code: RequestErrorCode;
  readonly status: number;
  /** Where in the request the problem is: `inputs[2].petal_width`, `model`, `inputs[0].shape`. */
  readonly field: string | undefined;
  constructor(code: RequestErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
    this.status = STATUS[code];
    this.field = field;
  }

  /** The response body: `error` is a string, as the Open Inference Protocol's error objects. */
  toJSON(): ErrorBody {
    return this.field === undefined
      ? { error: this.message, code: this.code }
      : { error: this.message, code: this.code, field: this.field };
  }
}

/** Bad input naming its field: "`field`: `problem`". */
export function invalidInput(field: string, problem: string): RequestError {
  return new RequestError('invalid_input', `${field}: ${problem}`, field);
}

/** A value's kind for a message: `a string`, `null`, `an array`, `NaN`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return `the number ${value}`;
  }
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  if (value === undefined) return 'nothing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
