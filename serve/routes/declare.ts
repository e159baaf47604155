/**
 * Routes are declared once: {@link declare} registers a route's OpenAPI description (method,
 * path, parameters, request and response schemas) and mounts its handlers on the same method and
 * path, so the document `/openapi.json` serves and the routes cannot drift apart. Requests are
 * validated by the handlers themselves (their messages name the field at fault, by the served
 * model's signature), not by a generic validator.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';

import type { AppDeps, AppEnv } from '../deps.ts';
import { COMMIT_HEADER, REQUEST_ID_HEADER, VERSION_HEADER } from '../answer/respond.ts';

/** The app every route module adds its routes to. */
export type ServeApp = OpenAPIHono<AppEnv>;

/** A route module: declares its routes on the app. */
export type Routes = (app: ServeApp, deps: AppDeps) => void;

// why: one handler type for middleware and final handlers keeps the spread below simple; Hono
// accepts both in the same list.
type Handler = MiddlewareHandler<AppEnv>;

/**
 * `/models/{name}` → `/models/:name`; a parameter followed by literal text within its segment
 * (`/v1/models/{name}:predict`, KServe's form) matches that whole segment, and its handler strips
 * the literal (Hono takes a parameter up to the next `/`).
 */
export function honoPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)\}(.*)$/.exec(segment);
      if (m === null) return segment;
      const [, name, rest] = m as unknown as [string, string, string];
      if (rest === '') return `:${name}`;
      return `:${name}{[^/]+${rest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}}`;
    })
    .join('/');
}

/** Registers `route` in the app's OpenAPI document and mounts `handlers` on it. */
export function declare(app: ServeApp, route: RouteConfig, ...handlers: Handler[]): void {
  app.openAPIRegistry.registerPath(route);
  app.on(route.method.toUpperCase(), honoPath(route.path), ...(handlers as [Handler]));
}

/** Every error's body. */
export const errorSchema = z
  .object({
    error: z.string().describe('What was wrong, where, and what to do.'),
    code: z.string().describe('Stable: invalid_input, invalid_json, model_not_found, ...'),
    field: z
      .string()
      .optional()
      .describe('The request field at fault, e.g. inputs[2].petal_width.'),
  })
  .openapi('Error');

/** The headers every response carries. */
export const answerHeaders = z.object({
  [VERSION_HEADER]: z.string().describe('The model version(s) that answered: iris@3.'),
  [COMMIT_HEADER]: z.string().describe('The registry commit that answered.'),
  [REQUEST_ID_HEADER]: z.string().describe("The request's id: the caller's, or a new one."),
});

/** A JSON response of `schema`. */
export function jsonResponse(description: string, schema: z.ZodType = z.object({}).passthrough()) {
  return { description, headers: answerHeaders, content: { 'application/json': { schema } } };
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input: the error names the field',
  401: 'Bad or missing signature',
  404: 'No such model, version or route',
  413: 'Body over the limit (the connection closes)',
  415: 'Unsupported content type',
  503: 'Nothing can answer yet, or the model is pinned but not loaded',
};

/** Error responses with the common error body. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, jsonResponse(ERROR_DESCRIPTIONS[s] ?? 'Error', errorSchema)]),
  );
}

/** A JSON request body of `schema`. */
export function jsonBodyOf(schema: z.ZodType, description?: string) {
  return {
    required: true,
    ...(description ? { description } : {}),
    content: { 'application/json': { schema } },
  };
}
