/** Small statistics helpers for the benchmark (no BigInt on the measured paths). */

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2 || ys.length !== n) return NaN;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

/** Slope of log(time) against log(size): 1.0 means time grows linearly with size. */
export function logLogSlope(sizes: readonly number[], times: readonly number[]): number {
  return slope(sizes.map(Math.log), times.map(Math.log));
}

/** Nanoseconds since an arbitrary origin, as a double (hrtime.bigint read outside the timed loop). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Times `op` `reps` times after `warmup` untimed runs. `setup` runs (untimed)
 * before every run, warm-up included, and hands `op` its fresh state.
 */
export function timeReps<S>(reps: number, warmup: number, setup: () => S, op: (state: S) => void, teardown?: (state: S) => void): number[] {
  const out: number[] = [];
  for (let r = 0; r < warmup + reps; r++) {
    const state = setup();
    const t0 = process.hrtime.bigint();
    op(state);
    const t1 = process.hrtime.bigint();
    if (r >= warmup) out.push(Number(t1 - t0));
    teardown?.(state);
  }
  return out;
}

export const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
