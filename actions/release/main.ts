/**
 * release: publishes a version tag of pinml (release.yml, after the bundles are checked): the
 * GitHub Release, with notes GitHub generates, and the major tag moved to the release's commit
 * through the git database API (a lightweight tag, as `actions/*` repositories keep `v4`).
 */
import * as core from '@actions/core';
import { UsageError } from '../../pipeline/errors.ts';
import { publishRelease, parseReleaseTag } from '../../pipeline/github/release.ts';
import * as action from '../common/action.ts';
import { repository } from '../common/branch.ts';

export function run(get = action.runnerInput, env = process.env): Promise<void> {
  return action.runAction(async () => {
    const tag = get('tag') || (env.GITHUB_REF ?? '').replace(/^refs\/tags\//, '');
    const version = parseReleaseTag(tag);
    if (!version)
      throw new UsageError(`"${tag}" is not a version tag: release vMAJOR.MINOR.PATCH (v1.2.3)`);
    const token = get('github-token');
    core.setSecret(token);
    const client = action.githubClient(token, env);
    const commit = env.GITHUB_SHA ?? '';
    if (!/^[0-9a-f]{40}$/.test(commit))
      throw new UsageError('GITHUB_SHA is not a commit: release runs in GitHub Actions');
    const published = await publishRelease(client, { ...repository(env), tag, version, commit });
    action.setOutputs({ 'release-url': published.url, major: published.major ?? '' });
    await action.writeSummary(
      `### pinml ${tag} released: ${published.url}\n\n${published.major ? `\`${published.major}\` now points at \`${commit.slice(0, 12)}\` (${published.majorOperation}).` : 'A prerelease: no major tag moved.'}\n`,
    );
  });
}
