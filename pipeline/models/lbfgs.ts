/**
 * Limited-memory BFGS (Nocedal and Wright, Numerical Optimization, 2nd ed., algorithms 7.4
 * and 7.5) with a backtracking (Armijo) line search: enough for smooth convex objectives such
 * as a regularised log-loss. Deterministic: the same objective and start give the same bits.
 */

/** Writes the gradient at `x` into `gradient` and returns the objective's value there. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Iterations (gradient steps) at most. */
  maxIterations: number;
  /** Stop when every component of the gradient is at most this in absolute value. */
  gradientTolerance: number;
  /** Corrections kept (m). */
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  /** Whether the gradient tolerance was met (otherwise the iterations ran out or no step helped). */
  converged: boolean;
}

/** Minimises `f` from `start`. */
export function minimizeLbfgs(
  f: Objective,
  start: Float64Array,
  options: LbfgsOptions,
): LbfgsResult {
  const n = start.length;
  const m = options.memory ?? 10;
  const x = Float64Array.from(start);
  const g = new Float64Array(n);
  let value = f(x, g);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const direction = new Float64Array(n);
  const trial = new Float64Array(n);
  const trialGradient = new Float64Array(n);

  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    if (maxAbs(g) <= options.gradientTolerance) {
      return { x, value, iterations: iteration, converged: true };
    }
    // Two-loop recursion: direction = -H g.
    direction.set(g);
    for (let i = s.length - 1; i >= 0; i--) {
      const a = (rho[i] as number) * dot(s[i] as Float64Array, direction);
      alpha[i] = a;
      axpy(-a, y[i] as Float64Array, direction);
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma =
        dot(s[last] as Float64Array, y[last] as Float64Array) /
        dot(y[last] as Float64Array, y[last] as Float64Array);
      scale(direction, gamma);
    } else {
      // First step: a unit step along the gradient direction, at most.
      scale(direction, 1 / Math.max(1, Math.sqrt(dot(g, g))));
    }
    for (let i = 0; i < s.length; i++) {
      const b = (rho[i] as number) * dot(y[i] as Float64Array, direction);
      axpy((alpha[i] as number) - b, s[i] as Float64Array, direction);
    }
    scale(direction, -1);
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (rounding): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      rho.length = 0;
      direction.set(g);
      scale(direction, -1 / Math.max(1, Math.sqrt(dot(g, g))));
      slope = dot(g, direction);
    }

    // Backtracking until the Armijo condition holds.
    let step = 1;
    let trialValue = NaN;
    let accepted = false;
    for (let tries = 0; tries < 50; tries++) {
      for (let i = 0; i < n; i++) trial[i] = (x[i] as number) + step * (direction[i] as number);
      trialValue = f(trial, trialGradient);
      if (Number.isFinite(trialValue) && trialValue <= value + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step /= 2;
    }
    if (!accepted) return { x, value, iterations: iteration, converged: false };

    const sNew = new Float64Array(n);
    const yNew = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sNew[i] = (trial[i] as number) - (x[i] as number);
      yNew[i] = (trialGradient[i] as number) - (g[i] as number);
    }
    const sy = dot(sNew, yNew);
    x.set(trial);
    g.set(trialGradient);
    value = trialValue;
    if (sy > 1e-12 * Math.sqrt(dot(yNew, yNew) * dot(sNew, sNew))) {
      if (s.length === m) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sNew);
      y.push(yNew);
      rho.push(1 / sy);
    }
  }
  return {
    x,
    value,
    iterations: options.maxIterations,
    converged: maxAbs(g) <= options.gradientTolerance,
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + a * (x[i] as number);
}

function scale(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * a;
}

function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] as number));
  return m;
}
