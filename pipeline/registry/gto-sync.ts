/**
 * Writes GTO's tags for the registry at a commit (`gto.ts` plans them): fetches the remote's
 * tags first (counters count up over the tags there are), writes the annotated tags that are
 * missing and pushes each one. Run after a registration and after each production change lands
 * on the default branch; running it again writes nothing.
 */
import type { GitRepo } from '../git/repo.ts';
import { paths } from './paths.ts';
import { planGtoTags, type PinName, type PlannedTag } from './gto.ts';
import { listModels, readModelState } from './registry.ts';

export interface GtoSyncInput {
  repo: GitRepo;
  /** The default branch: its tip is what the tags describe. */
  branch: string;
  remote?: string;
  /** The models to tag (default every model of the registry). */
  models?: readonly string[];
}

export interface GtoSyncResult {
  written: PlannedTag[];
  /** Why a model was left out (a name GTO cannot express). */
  skipped: string[];
}

/** The commit that registered `version`: the one that added its card (cards never change). */
async function registrationCommit(repo: GitRepo, tip: string, model: string, version: number) {
  const commits = await repo.log(tip, { path: paths.card(model, version) });
  return commits.at(-1)?.oid;
}

export async function syncGtoTags(input: GtoSyncInput): Promise<GtoSyncResult> {
  const { repo, branch } = input;
  const remote = input.remote ?? 'origin';
  const tip = await repo.fetch({ branch, remote, tags: true });
  const models = input.models ?? (await listModels(repo, tip));
  const result: GtoSyncResult = { written: [], skipped: [] };
  let tags = await repo.listTags();
  for (const model of models) {
    const state = await readModelState(repo, tip, model);
    const versions: { version: number; commit: string }[] = [];
    for (const card of state.cards) {
      const commit = await registrationCommit(repo, tip, model, card.version);
      if (commit !== undefined) versions.push({ version: card.version, commit });
    }
    // A pin that is absent is a stage unassigned (nothing is tagged unless it was assigned).
    const pins: Partial<Record<PinName, number | null>> = {
      production: state.pins?.production ?? null,
      canary: (state.pins && 'canary' in state.pins ? state.pins.canary?.version : null) ?? null,
      shadow: (state.pins && 'shadow' in state.pins ? state.pins.shadow?.version : null) ?? null,
    };
    const plan = planGtoTags({ model, versions, pins, tags });
    if (plan.skipped !== undefined) {
      result.skipped.push(plan.skipped);
      continue;
    }
    for (const tag of plan.tags) {
      await repo.createTag(tag);
      await repo.pushTag(tag.name, remote);
      result.written.push(tag);
    }
    tags = await repo.listTags();
  }
  return result;
}
