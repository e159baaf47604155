/**
 * PSI of logged inputs against a card's reference profile, as the server computes it every
 * `--live-interval` for `pinml_drift_psi` (a server has no training rows, only the card): each
 * feature's rows in the profile's ten quantile bins (the bins `pinml drift` uses, `bins.ts`),
 * against the training shares the profile records, with Evidently's ε for an empty bin. The
 * severity is the worst feature's by PSI alone (none below `psiMedium`, medium, high from
 * `psiHigh`): without the training rows the tests that tell "low" from "none" cannot run. Pure.
 */
import { binIndex, toShares } from './bins.ts';
import type { DriftOptions } from './options.ts';
import type { ReferenceProfile } from './profile.ts';
import type { Severity } from './report.ts';
import { psi } from './stats.ts';

/** The window's PSI per feature, in the profile's order, and the model's severity. */
export interface ProfilePsi {
  rows: number;
  features: { feature: string; psi: number }[];
  severity: Severity;
}

/** Bin counts per feature of the profile, filled row by row. */
export class ProfileBins {
  readonly #profile: ReferenceProfile;
  readonly #counts: number[][];
  #rows = 0;

  constructor(profile: ReferenceProfile) {
    this.#profile = profile;
    this.#counts = profile.features.map((f) =>
      new Array<number>(f.quantiles.shares.length).fill(0),
    );
  }

  get rows(): number {
    return this.#rows;
  }

  /**
   * Adds a row of inputs keyed by feature; a row that lacks a feature, or has a value that is
   * not a finite number, is skipped whole (another signature's row), and false is returned.
   */
  add(inputs: Readonly<Record<string, number>>): boolean {
    const features = this.#profile.features;
    for (const f of features) {
      if (!Number.isFinite(inputs[f.name])) return false;
    }
    for (let j = 0; j < features.length; j++) {
      const f = features[j] as ReferenceProfile['features'][number];
      const b = binIndex(f.quantiles.edges, inputs[f.name] as number);
      const counts = this.#counts[j] as number[];
      counts[b] = (counts[b] as number) + 1;
    }
    this.#rows += 1;
    return true;
  }

  /** The PSI of the rows added so far; null below `minRows` rows. */
  result(
    options: Pick<DriftOptions, 'psiEpsilon' | 'psiMedium' | 'psiHigh' | 'minRows'>,
  ): ProfilePsi | null {
    if (this.#rows < options.minRows) return null;
    const features = this.#profile.features.map((f, j) => ({
      feature: f.name,
      psi: psi(f.quantiles.shares, toShares(this.#counts[j] as number[]), options.psiEpsilon),
    }));
    const worst = Math.max(...features.map((f) => f.psi));
    const severity: Severity =
      worst >= options.psiHigh ? 'high' : worst >= options.psiMedium ? 'medium' : 'none';
    return { rows: this.#rows, features, severity };
  }
}
