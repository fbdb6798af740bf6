/**
 * Limited-memory BFGS with a backtracking (Armijo) line search: the optimiser behind the linear models.
 * Full-batch, deterministic; the caller may stop it after any iteration (early stopping).
 */

export type Objective = (theta: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Iterations at most (default 200). */
  maxIter?: number;
  /** Stop when the gradient's max-abs entry falls below this (default 1e-6). */
  gradTol?: number;
  /** Pairs of correction vectors kept (default 10). */
  memory?: number;
  /** Called after each iteration with the current parameters; return true to stop. */
  onIteration?: (iteration: number, theta: Float64Array, loss: number) => boolean;
}

export function minimizeLbfgs(
  f: Objective,
  theta0: Float64Array,
  options: LbfgsOptions = {},
): { theta: Float64Array; iterations: number } {
  const maxIter = options.maxIter ?? 200;
  const gradTol = options.gradTol ?? 1e-6;
  const m = options.memory ?? 10;
  const n = theta0.length;
  let x = Float64Array.from(theta0);
  let g = new Float64Array(n);
  let fx = f(x, g);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const alpha = new Float64Array(m);
  let it = 0;
  for (; it < maxIter; it++) {
    if (maxAbs(g) < gradTol) break;
    // Two-loop recursion: dir = -H g.
    dir.set(g);
    for (let k = sList.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(sList[k]!, dir);
      axpy(-alpha[k]!, yList[k]!, dir);
    }
    if (sList.length > 0) {
      const last = sList.length - 1;
      const gamma = dot(sList[last]!, yList[last]!) / dot(yList[last]!, yList[last]!);
      for (let i = 0; i < n; i++) dir[i] = dir[i]! * gamma;
    } else {
      // First step: a unit-length move along -g keeps the first line search sane.
      const s = 1 / Math.max(1e-12, Math.sqrt(dot(g, g)));
      for (let i = 0; i < n; i++) dir[i] = dir[i]! * s;
    }
    for (let k = 0; k < sList.length; k++) {
      const beta = rho[k]! * dot(yList[k]!, dir);
      axpy(alpha[k]! - beta, sList[k]!, dir);
    }
    for (let i = 0; i < n; i++) dir[i] = -dir[i]!;
    let slope = dot(g, dir);
    if (slope >= 0) {
      // Not a descent direction (curvature info gone stale): restart from steepest descent.
      sList.length = yList.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i]!;
      slope = dot(g, dir);
    }
    let step = 1;
    const xNew = new Float64Array(n);
    const gNew = new Float64Array(n);
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * dir[i]!;
      fNew = f(xNew, gNew);
      if (fNew <= fx + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew < fx || fNew <= fx + 1e-4 * step * slope)) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sList.push(s);
      yList.push(y);
      rho.push(1 / sy);
      if (sList.length > m) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
    }
    const improvement = fx - fNew;
    x = xNew;
    g = gNew;
    fx = fNew;
    if (options.onIteration?.(it + 1, x, fx)) {
      it++;
      break;
    }
    if (improvement <= 1e-12 * Math.max(1, Math.abs(fx))) {
      it++;
      break;
    }
  }
  return { theta: x, iterations: it };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = y[i]! + a * x[i]!;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
