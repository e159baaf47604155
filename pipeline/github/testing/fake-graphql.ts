/**
 * The GraphQL side of the fake GitHub: every query is parsed and validated against GitHub's
 * published schema (`@octokit/graphql-schema`), as the REST side is against the OpenAPI
 * description; a query that does not validate is a violation. One mutation is served,
 * `enablePullRequestAutoMerge` (what pinml asks for a registration pull request), with GitHub's
 * refusals: auto-merge off for the repository ("Allow auto-merge", off by default), or a pull
 * request that is not open.
 *
 * Test helper only.
 */
import { validate as validateAgainstGitHub } from '@octokit/graphql-schema';
import type { FakePull } from './fake-issues.ts';

export interface GraphqlState {
  pulls: FakePull[];
  settings: { allowAutoMerge: boolean };
}

export interface GraphqlReply {
  status: number;
  body: unknown;
  /** What did not validate against the schema (a correct client leaves this empty). */
  violations: string[];
}

/** The node id the fake gives a pull request (`node_id` in REST, `id` in GraphQL). */
export const pullNodeId = (number: number): string => `PR_kwFAKE${number}`;

export function handleGraphql(s: GraphqlState, text: string): GraphqlReply {
  let request: { query?: unknown; variables?: Record<string, unknown> };
  try {
    request = JSON.parse(text) as typeof request;
  } catch {
    return { status: 400, body: { message: 'Problems parsing JSON' }, violations: ['not JSON'] };
  }
  let errors: string[];
  try {
    // The validator GitHub's schema package publishes (its introspection result).
    errors = validateAgainstGitHub(typeof request.query === 'string' ? request.query : '').map(
      (e) => e.message,
    );
  } catch (e) {
    errors = [(e as Error).message];
  }
  if (errors.length > 0)
    return {
      status: 200,
      body: { errors: errors.map((message) => ({ message })) },
      violations: errors,
    };
  const query = typeof request.query === 'string' ? request.query : '';
  if (!/\benablePullRequestAutoMerge\b/.test(query))
    return {
      status: 200,
      body: { errors: [{ message: 'the fake serves enablePullRequestAutoMerge only' }] },
      violations: ['an operation the fake does not serve'],
    };
  const given = Object.values(request.variables ?? {})[0];
  const id = typeof given === 'string' ? given : '';
  const pull = s.pulls.find((p) => pullNodeId(p.number) === id);
  const refuse = (message: string): GraphqlReply => ({
    status: 200,
    body: {
      data: { enablePullRequestAutoMerge: null },
      errors: [{ type: 'UNPROCESSABLE', path: ['enablePullRequestAutoMerge'], message }],
    },
    violations: [],
  });
  if (!pull) return refuse(`Could not resolve to a node with the global id of '${id}'`);
  if (!s.settings.allowAutoMerge) return refuse('Auto merge is not allowed for this repository');
  if (pull.state !== 'open')
    return refuse('Pull request is not in the correct state to enable auto-merge');
  pull.auto_merge = { merge_method: 'merge', enabled_at: new Date().toISOString() };
  return {
    status: 200,
    body: {
      data: {
        enablePullRequestAutoMerge: {
          pullRequest: {
            number: pull.number,
            autoMergeRequest: { enabledAt: pull.auto_merge.enabled_at },
          },
        },
      },
    },
    violations: [],
  };
}
