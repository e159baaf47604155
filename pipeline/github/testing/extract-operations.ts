/**
 * Extracts the GitHub REST operations pinml calls from GitHub's published OpenAPI description
 * (the `@octokit/openapi` package, 385 MB: not a dependency) into `github-operations.json`, the
 * committed fixture the fake GitHub validates every request against.
 *
 *   npm i --prefix /tmp/octo @octokit/openapi@23
 *   node --import tsx pipeline/github/testing/extract-operations.ts \
 *     /tmp/octo/node_modules/@octokit/openapi/generated/api.github.com.deref.json
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../../json.ts';

/** The operations pinml uses: method and path template as GitHub's description writes them. */
export const OPERATIONS: readonly [string, string][] = [
  ['get', '/repos/{owner}/{repo}'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['patch', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['put', '/repos/{owner}/{repo}/pulls/{pull_number}/merge'],
  ['get', '/repos/{owner}/{repo}/issues'],
  ['post', '/repos/{owner}/{repo}/issues'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['patch', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/labels'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
  // Dispatches: the events GITHUB_TOKEN may start workflows with (a monitor's rollback).
  ['post', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches'],
  ['post', '/repos/{owner}/{repo}/dispatches'],
  // The git database: commits written through the API (GitHub signs them), and tags.
  ['post', '/repos/{owner}/{repo}/git/blobs'],
  ['post', '/repos/{owner}/{repo}/git/trees'],
  ['post', '/repos/{owner}/{repo}/git/commits'],
  ['get', '/repos/{owner}/{repo}/git/commits/{commit_sha}'],
  ['get', '/repos/{owner}/{repo}/git/ref/{ref}'],
  ['post', '/repos/{owner}/{repo}/git/refs'],
  ['patch', '/repos/{owner}/{repo}/git/refs/{ref}'],
  ['post', '/repos/{owner}/{repo}/git/tags'],
  // Releases (the release workflow).
  ['post', '/repos/{owner}/{repo}/releases'],
];

interface OpenApi {
  info: { version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
}

const source = process.argv[2];
if (!source) {
  console.error('usage: extract-operations.ts <path to api.github.com.deref.json>');
  process.exit(2);
}
const api = JSON.parse(await readFile(source, 'utf8')) as OpenApi;
const operations = OPERATIONS.map(([method, path]) => {
  const op = api.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in ${source}`);
  return {
    operationId: op.operationId,
    method: method.toUpperCase(),
    path,
    parameters: (op.parameters ?? []).map((p) => ({
      name: p.name,
      in: p.in,
      required: p.required === true,
      schema: p.schema ?? {},
    })),
    requestBody: op.requestBody?.content?.['application/json']
      ? {
          required: op.requestBody.required === true,
          schema: op.requestBody.content['application/json'].schema ?? {},
        }
      : null,
  };
});
const out = fileURLToPath(new URL('github-operations.json', import.meta.url));
await writeFile(
  out,
  canonicalJson({ source: `@octokit/openapi api.github.com ${api.info.version}`, operations }),
);
console.log(`wrote ${operations.length} operations to ${out}`);
