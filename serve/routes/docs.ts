/**
 * `GET /openapi.json`: the OpenAPI 3.1 document, generated from the route declarations (see
 * `declare.ts`), with one concrete `/models/<name>/predict` path per served model whose request
 * schema lists that model's features. `GET /docs`: one self-contained HTML page (no CDN, no external file: it works offline and
 * under a strict network policy) that fetches `/openapi.json` and lists every operation with its
 * parameters, request schema and responses.
 */

import { z } from '@hono/zod-openapi';

import { COMMIT_HEADER, respond, VERSION_HEADER } from '../answer/respond.ts';
import type { ServingState } from '../follow/reconcile.ts';
import { declare, type Routes, type ServeApp } from './declare.ts';
import { predictRequestSchema } from './predict.ts';

const escape = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The page for a server name and version. */
export function docsPage(server: { name: string; version: string }): string {
  const title = `${escape(server.name)} ${escape(server.version)}: API`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
  h1 { font-size: 1.5em; } code, pre { font: 13px ui-monospace, monospace; }
  details { border: 1px solid #ddd; border-radius: 6px; margin: .5em 0; padding: .3em .8em; }
  summary { cursor: pointer; } pre { background: #f6f8fa; padding: .6em; overflow: auto; }
  .m { display: inline-block; min-width: 4em; font-weight: 600; }
  .get { color: #0a6; } .post { color: #06c; }
</style>
</head>
<body>
<h1>${title}</h1>
<p>The machine-readable description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<div id="ops">Loading /openapi.json…</div>
<script>
(async () => {
  const root = document.getElementById('ops');
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    Object.assign(e, attrs);
    for (const c of children) e.append(c);
    return e;
  };
  const pre = (value) => el('pre', { textContent: JSON.stringify(value, null, 2) });
  try {
    const doc = await (await fetch('/openapi.json')).json();
    const resolve = (s) => (s && s.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s);
    root.textContent = '';
    root.append(el('p', { textContent: doc.info.description || '' }));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const d = el('details', {});
        d.append(el('summary', {}, el('span', { className: 'm ' + method, textContent: method.toUpperCase() }),
          el('code', { textContent: path }), ' ', op.summary || ''));
        if (op.description) d.append(el('p', { textContent: op.description }));
        if (op.parameters && op.parameters.length) {
          d.append(el('p', { textContent: 'Parameters: ' + op.parameters.map((p) => p.name + ' (' + p.in + ')').join(', ') }));
        }
        const body = op.requestBody && op.requestBody.content['application/json'];
        if (body) d.append(el('p', { textContent: 'Request body (application/json):' }), pre(resolve(body.schema)));
        d.append(el('p', { textContent: 'Responses: ' + Object.keys(op.responses || {}).join(', ') }));
        root.append(d);
      }
    }
  } catch (err) {
    root.textContent = 'Could not load /openapi.json: ' + err;
  }
})();
</script>
</body>
</html>
`;
}

type Json = Record<string, unknown>;

/**
 * The document for a serving state: the declared routes, and per served model a copy of the
 * `/models/{name}/predict` operation whose request schema is that model's.
 */
export function openApiDocument(
  app: ServeApp,
  state: ServingState,
  deps: { server: { name: string; version: string }; limits: { batchRows: number } },
): Json {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: `${deps.server.name} inference server`,
      version: deps.server.version,
      description:
        'Serves the model versions the registry pins at the followed ref. Every response carries ' +
        `${VERSION_HEADER} and ${COMMIT_HEADER}.`,
    },
  }) as unknown as { paths: Record<string, Json>; components: { schemas: Json } };
  const generic = (doc.paths['/models/{name}/predict'] as { post: Json }).post;
  for (const m of state.models.values()) {
    const name = `PredictRequest_${m.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const { $schema: _drop, ...schema } = z.toJSONSchema(
      predictRequestSchema(m.inputs.row, deps.limits.batchRows),
      { io: 'input', unrepresentable: 'any' },
    ) as Json;
    doc.components.schemas[name] = schema;
    const { parameters: _params, ...op } = generic;
    doc.paths[`/models/${m.name}/predict`] = {
      post: {
        ...op,
        summary: `Predict with ${m.name} (serving v${m.version}; features ${m.predictor.features.join(', ')})`,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } },
        },
      },
    };
  }
  return doc;
}

/** The routes. */
export const docsRoutes: Routes = (app, deps) => {
  const cache = new WeakMap<ServingState, Json>();
  declare(
    app,
    {
      method: 'get',
      path: '/openapi.json',
      tags: ['docs'],
      summary: 'This document',
      responses: {
        200: {
          description: 'OpenAPI 3.1',
          content: { 'application/json': { schema: z.object({}).passthrough() } },
        },
      },
    },
    (c) => {
      const state = c.get('state');
      let doc = cache.get(state);
      if (doc === undefined) {
        doc = openApiDocument(app, state, deps);
        cache.set(state, doc);
      }
      return Promise.resolve(respond(c, doc));
    },
  );
  declare(
    app,
    {
      method: 'get',
      path: '/docs',
      tags: ['docs'],
      summary: 'This document as a page',
      responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } },
    },
    (c) => Promise.resolve(respond(c, docsPage(deps.server), 200, 'text/html; charset=UTF-8')),
  );
};
