/**
 * Live quality on a timer: every `intervalMs` the store's counts over the last `windowMs` become
 * figures (pipeline/log/quality.ts) and replace the `/metrics` gauges; computed from the store,
 * not per scrape, so a scrape costs nothing and every replica that shares a store agrees.
 */
import type { Logger } from 'pino';

import { liveQuality, type LiveQuality } from '../../pipeline/log/quality.ts';
import type { LogStore } from '../../pipeline/log/store.ts';
import type { ServingState } from '../follow/reconcile.ts';
import type { ServeMetrics } from '../metrics.ts';

export interface LiveOptions {
  store: LogStore;
  metrics: ServeMetrics;
  log: Logger;
  /** The served models (their classes name the classes of a version that answers). */
  state: () => ServingState;
  windowMs: number;
  intervalMs: number;
  now?: () => number;
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
    return this.#latest;
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
