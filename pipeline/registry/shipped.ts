/**
 * Whether a registry is current with the running code: for each model, the version production
 * pins was trained by this code version. When it is not, `npm run pipeline` on a fresh clone
 * registers a new version instead of answering `unchanged`; `npm run registry:refresh`
 * (`refresh.ts`) re-registers and promotes the stale models.
 */
import type { GitRepo } from '../git/repo.ts';
import { listModels, productionVersion, readModelState } from './registry.ts';

/** A model whose production version was trained by another code version (or has none). */
export interface StaleModel {
  model: string;
  production: number | null;
  /** The code version that trained it; null without a production version. */
  trainedBy: string | null;
}

/** The models at `commit` whose production version was not trained by `codeId`. */
export async function staleModels(
  repo: GitRepo,
  commit: string,
  codeId: string,
): Promise<StaleModel[]> {
  const stale: StaleModel[] = [];
  for (const model of await listModels(repo, commit)) {
    const state = await readModelState(repo, commit, model);
    const production = productionVersion(state);
    const card = state.cards.find((c) => c.version === production);
    if (card?.code.id !== codeId) {
      stale.push({ model, production, trainedBy: card?.code.id ?? null });
    }
  }
  return stale;
}
