/**
 * Live quality and drift on a timer: every `intervalMs` the store's counts over the last
 * `windowMs` become figures (pipeline/log/quality.ts), and each production version's logged
 * inputs its PSI against the card's reference profile (pipeline/drift/profile-psi.ts); both
 * replace their `/metrics` gauges. Computed from the store, not per scrape, so a scrape costs
 * nothing and every replica that shares a store agrees.
 */
import type { Logger } from 'pino';

import { DEFAULT_DRIFT_OPTIONS } from '../../pipeline/drift/options.ts';
import { ProfileBins } from '../../pipeline/drift/profile-psi.ts';
import { readStorePages } from '../../pipeline/log/pages.ts';
import { liveQuality, type LiveQuality } from '../../pipeline/log/quality.ts';
import type { LogStore, QualityCounts } from '../../pipeline/log/store.ts';
import type { ServingState } from '../follow/reconcile.ts';
import type { LiveDrift, ServeMetrics } from '../metrics.ts';

/** The most rows of a version read for its PSI per computation: the window's newest, about. */
export const DRIFT_MAX_ROWS = 20_000;
const PAGE_ROWS = 5_000;

export interface LiveOptions {
  store: LogStore;
  metrics: ServeMetrics;
  log: Logger;
  /** The served models (their classes name the classes of a version that answers). */
  state: () => ServingState;
  windowMs: number;
  intervalMs: number;
  now?: () => number;
  /** The most rows read per version for its PSI (default DRIFT_MAX_ROWS). */
  driftMaxRows?: number;
}

/** Computes live quality now and on a timer. */
export class LiveMonitor {
  readonly #o: LiveOptions;
  #latest: LiveQuality[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LiveOptions) {
    this.#o = options;
  }

  /** The last figures. */
  get latest(): readonly LiveQuality[] {
    return this.#latest;
  }

  /** Computes the figures now and publishes them. */
  async update(): Promise<readonly LiveQuality[]> {
    const now = (this.#o.now ?? Date.now)();
    const counts = await this.#o.store.quality({ from: now - this.#o.windowMs, until: now });
    const state = this.#o.state();
    this.#latest = counts.map((c) => {
      const roles = state.roles.get(c.model);
      const served = [state.models.get(c.model), roles?.canary?.model, roles?.shadow].find(
        (m) => m?.version === c.version,
      );
      return liveQuality(c, served?.classKeys ?? []);
    });
    this.#o.metrics.live(this.#latest);
    this.#o.metrics.drift(await this.#driftOf(counts, state, now));
    return this.#latest;
  }

  /**
   * Each production version's PSI against its card's profile (versions without one, or with
   * fewer than `minRows` logged inputs, have none). Past `driftMaxRows` rows in the window, the
   * rows are read from a later start that leaves about that many (traffic taken as even).
   */
  async #driftOf(
    counts: readonly QualityCounts[],
    state: ServingState,
    now: number,
  ): Promise<LiveDrift[]> {
    const cap = this.#o.driftMaxRows ?? DRIFT_MAX_ROWS;
    const out: LiveDrift[] = [];
    for (const model of state.models.values()) {
      const profile = model.card.profile;
      const rows = counts.find(
        (c) => c.model === model.name && c.version === model.version && c.pin === 'production',
      )?.rows;
      if (profile === undefined || rows === undefined) continue;
      const span = rows > cap ? (this.#o.windowMs * cap) / rows : this.#o.windowMs;
      const bins = new ProfileBins(profile);
      const query = {
        model: model.name,
        version: model.version,
        pin: 'production' as const,
        from: now - span,
        until: now,
      };
      let read = 0;
      for await (const page of readStorePages(this.#o.store, query, Math.min(PAGE_ROWS, cap))) {
        for (const row of page.slice(0, cap - read)) if (row.inputs !== null) bins.add(row.inputs);
        read += page.length;
        if (read >= cap) break;
      }
      const psi = bins.result(DEFAULT_DRIFT_OPTIONS);
      if (psi !== null) out.push({ model: model.name, version: model.version, ...psi });
    }
    return out;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.update().catch((err: unknown) =>
        this.#o.log.warn({ err: (err as Error).message }, 'live quality could not be computed'),
      );
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
