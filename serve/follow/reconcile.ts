/**
 * The reconciler keeps the served models in step with the ref: on start, on a timer and when a
 * webhook says the ref moved, it reads what the ref pins, loads what changed and swaps the
 * whole serving state in one assignment. A request reads the state once, so it sees one version
 * of everything; a version that fails to load never replaces one that is served.
 */
import type { Logger } from 'pino';

import {
  errorCode,
  loadRegistry,
  versionRef,
  type LoadProblem,
  type ServedModel,
  type ServedRoles,
} from './load-registry.ts';
import type { ServeMetrics } from '../metrics.ts';
import type { RegistrySource } from './source.ts';

/** What started a reconcile. */
export type ReconcileTrigger = 'startup' | 'poll' | 'webhook';

/** Everything a request needs to answer, immutable: replaced whole, never changed in place. */
export interface ServingState {
  /** The ref followed (`main`). */
  readonly ref: string;
  /** The ref's commit at the last reconcile that could read it; null before the first. */
  readonly commit: string | null;
  /** Each model's production version. */
  readonly models: ReadonlyMap<string, ServedModel>;
  /** The canary and shadow of each model that has one (see `load-registry.ts`). */
  readonly roles: ReadonlyMap<string, ServedRoles>;
  /** Models pinned at `commit` (served or not). */
  readonly pinned: readonly string[];
  /** Why the server is degraded: versions that failed to load, a registry that could not be read. */
  readonly problems: readonly LoadProblem[];
  /** When the last reconcile finished (ISO 8601); null before the first. */
  readonly reconciledAt: string | null;
}

/** `starting` until the first reconcile ends; `degraded` while a problem stands. */
export type ServingStatus = 'starting' | 'ok' | 'degraded';

export function statusOf(state: ServingState): ServingStatus {
  if (state.reconciledAt === null) return 'starting';
  return state.problems.length > 0 ? 'degraded' : 'ok';
}

/**
 * Why the server is not ready, or an empty list when it is: ready once the first reconcile has
 * ended, at least one model is served and every pinned model is served (a model still on an
 * older version because its new one failed counts as served).
 */
export function notReadyReasons(state: ServingState): string[] {
  if (state.reconciledAt === null) return ['the first reconcile has not finished'];
  const reasons = state.pinned
    .filter((m) => !state.models.has(m))
    .map((m) => `${m} is pinned but no version of it could be loaded`);
  if (state.models.size === 0 && reasons.length === 0) {
    reasons.push(
      state.commit === null
        ? 'the registry could not be read'
        : `no model is pinned at ${state.ref} (${state.commit.slice(0, 12)}): promote one`,
    );
  }
  return reasons;
}

/** The state before the first reconcile. */
export function initialState(ref: string): ServingState {
  return {
    ref,
    commit: null,
    models: new Map(),
    roles: new Map(),
    pinned: [],
    problems: [],
    reconciledAt: null,
  };
}

/** What one reconcile did. */
export interface ReconcileResult {
  trigger: ReconcileTrigger;
  result: 'changed' | 'unchanged' | 'failed';
  commit: string | null;
  served: string[];
  /** The canaries and shadows served: `iris@6 canary 0.2`, `iris@7 shadow`. */
  roles: string[];
  problems: LoadProblem[];
}

/** Follows a registry source; read `state` for the current snapshot. */
export class Reconciler {
  #state: ServingState;
  readonly #source: RegistrySource;
  readonly #log: Logger;
  readonly #metrics: ServeMetrics;
  readonly #now: () => Date;
  #running: Promise<ReconcileResult> | undefined;
  #queued: { trigger: ReconcileTrigger; promise: Promise<ReconcileResult> } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: {
    source: RegistrySource;
    log: Logger;
    metrics: ServeMetrics;
    now?: () => Date;
  }) {
    this.#source = deps.source;
    this.#log = deps.log;
    this.#metrics = deps.metrics;
    this.#now = deps.now ?? (() => new Date());
    this.#state = initialState(deps.source.ref);
  }

  /** The current serving state: one object, swapped whole. */
  get state(): ServingState {
    return this.#state;
  }

  /**
   * Reconciles now. Calls never overlap: while one runs, later calls share one follow-up run,
   * so a burst of webhooks costs at most two reconciles and none is lost.
   */
  reconcile(trigger: ReconcileTrigger): Promise<ReconcileResult> {
    if (this.#running === undefined) {
      this.#running = this.#run(trigger).finally(() => {
        this.#running = undefined;
        this.#queued = undefined;
      });
      return this.#running;
    }
    if (this.#queued === undefined) {
      const after = this.#running;
      const promise = after.then(
        () => this.reconcile(trigger),
        () => this.reconcile(trigger),
      );
      this.#queued = { trigger, promise };
    }
    return this.#queued.promise;
  }

  /** Polls every `intervalMs` (0: never), each run starting when the previous one ended. */
  start(intervalMs: number): void {
    this.#stopped = false;
    if (intervalMs <= 0) return;
    const tick = (): void => {
      this.#timer = setTimeout(() => {
        void this.reconcile('poll').finally(() => {
          if (!this.#stopped) tick();
        });
      }, intervalMs);
      this.#timer.unref();
    };
    tick();
  }

  /** Stops polling and waits for a running reconcile. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  async #run(trigger: ReconcileTrigger): Promise<ReconcileResult> {
    const started = performance.now();
    const before = this.#state;
    let next: ServingState;
    try {
      const { commit, repo } = await this.#source.head();
      this.#metrics.fetched(commit);
      // Nothing moved and nothing failed for a reason that might pass: skip the reads.
      if (
        commit === before.commit &&
        before.reconciledAt !== null &&
        before.problems.every((p) => p.code === 'E_REGISTRY' || p.code === 'E_MODEL_FORMAT')
      ) {
        return this.#finish(trigger, started, 'unchanged', before);
      }
      const load = await loadRegistry(repo, commit, before.models, this.#now, before.roles);
      next = {
        ref: before.ref,
        commit,
        models: load.models,
        roles: load.roles,
        pinned: load.pinned,
        problems: load.problems,
        reconciledAt: this.#now().toISOString(),
      };
    } catch (err) {
      // The registry could not be read (network, git, a broken registry folder): keep serving.
      const problem: LoadProblem = {
        commit: before.commit,
        code: errorCode(err),
        message: `reading ${this.#source.location} at ${this.#source.ref} failed: ${
          err instanceof Error ? err.message : String(err)
        }`,
      };
      next = {
        ...before,
        problems: [...before.problems.filter((p) => p.model !== undefined), problem],
        reconciledAt: this.#now().toISOString(),
      };
    }
    this.#report(before, next);
    this.#state = next;
    const changed =
      next.commit !== before.commit ||
      !sameServed(before.models, next.models) ||
      roleRefs(before) !== roleRefs(next);
    return this.#finish(
      trigger,
      started,
      next.problems.length > 0 ? 'failed' : changed ? 'changed' : 'unchanged',
      next,
    );
  }

  #finish(
    trigger: ReconcileTrigger,
    started: number,
    result: ReconcileResult['result'],
    state: ServingState,
  ): ReconcileResult {
    this.#metrics.reconcile(trigger, result, (performance.now() - started) / 1000);
    return {
      trigger,
      result,
      commit: state.commit,
      served: [...state.models.values()].map(versionRef),
      roles: roleRefList(state),
      problems: [...state.problems],
    };
  }

  /** Logs and counts what changed between two states. */
  #report(before: ServingState, next: ServingState): void {
    const log = this.#log;
    for (const [name, model] of next.models) {
      const old = before.models.get(name);
      if (old === undefined || old.version !== model.version) {
        log.info(
          {
            model: name,
            version: model.version,
            previous: old?.version ?? null,
            commit: model.commit,
            kind: model.predictor.kind,
            engine: model.predictor.engine,
            sha256: model.card.artifact.sha256,
          },
          `serving ${versionRef(model)}${old ? ` (was v${old.version})` : ''} from ${model.commit.slice(0, 12)}`,
        );
      }
    }
    for (const [name, old] of before.models) {
      if (!next.models.has(name)) {
        log.info(
          { model: name, previous: old.version, commit: next.commit },
          `stopped serving ${versionRef(old)}: ${name} is no longer pinned at ${next.ref}`,
        );
      }
    }
    const was = new Set(roleRefList(before));
    const now = new Set(roleRefList(next));
    for (const r of now) if (!was.has(r)) log.info({ commit: next.commit }, `serving ${r}`);
    for (const r of was) if (!now.has(r)) log.info({ commit: next.commit }, `stopped serving ${r}`);
    const known = new Set(before.problems.map(problemKey));
    for (const p of next.problems) {
      // A problem is logged when it appears, not on every poll that still sees it.
      if (known.has(problemKey(p))) continue;
      if (p.model !== undefined) this.#metrics.loadFailure(p.model);
      const kept = p.model === undefined ? undefined : next.models.get(p.model);
      log.error(
        { ...p, serving: kept ? versionRef(kept) : null },
        `${p.model === undefined ? 'registry' : `${p.model}${p.version ? `@${p.version}` : ''}`}` +
          `${p.pin ? ` (${p.pin})` : ''} ` +
          `not loaded: ${p.message}${kept ? `; still serving ${versionRef(kept)}` : ''}`,
      );
    }
    if (next.problems.length === 0 && before.problems.length > 0) {
      log.info({ commit: next.commit }, 'recovered: every pinned model is served');
    }
    this.#metrics.served(next.models.values(), next.problems.length > 0, next.roles, next.commit);
  }
}

function problemKey(p: LoadProblem): string {
  return `${p.model ?? ''}\u0000${p.version ?? ''}\u0000${p.pin ?? ''}\u0000${p.commit ?? ''}\u0000${p.message}`;
}

/** The canaries and shadows a state serves, as `iris@6 canary 0.2` and `iris@7 shadow`. */
function roleRefList(state: ServingState): string[] {
  const out: string[] = [];
  for (const { canary, shadow } of state.roles.values()) {
    if (canary !== undefined) out.push(`${versionRef(canary.model)} canary ${canary.weight}`);
    if (shadow !== undefined) out.push(`${versionRef(shadow)} shadow`);
  }
  return out;
}

function roleRefs(state: ServingState): string {
  return roleRefList(state).join(', ');
}

function sameServed(
  a: ReadonlyMap<string, ServedModel>,
  b: ReadonlyMap<string, ServedModel>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, m] of a) if (b.get(name)?.version !== m.version) return false;
  return true;
}
