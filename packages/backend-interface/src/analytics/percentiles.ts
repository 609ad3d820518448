/** Distribution of durations in µs. Every field is 0 when `count` is 0. */
export interface Percentiles {
  count: number;
  /** `Math.round(sum / count)` (half up; SQL: `ROUND(SUM(v)::numeric / COUNT(*))` or `(2*SUM + COUNT) / (2*COUNT)` in integers). */
  averageUs: number;
  /** Nearest-rank 50th percentile. */
  medianUs: number;
  /** Nearest-rank 95th percentile. */
  p95Us: number;
  /** Nearest-rank 99th percentile. */
  p99Us: number;
  minUs: number;
  maxUs: number;
}

/** The all-zero distribution. */
export const EMPTY_PERCENTILES: Percentiles = {
  count: 0,
  averageUs: 0,
  medianUs: 0,
  p95Us: 0,
  p99Us: 0,
  minUs: 0,
  maxUs: 0,
};

/**
 * Nearest-rank percentile of ascending `sorted` values: the value at 1-based rank `ceil(p * n / 100)`
 * (integer form `floor((p * n + 99) / 100)`), at least rank 1. With n = 2 the median is the lower value.
 */
export function nearestRank(sorted: readonly number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = Math.max(1, Math.ceil((p * n) / 100));
  return sorted[Math.min(rank, n) - 1] ?? 0;
}

/** Rounded mean: `Math.round(sum / count)`, 0 for no values. */
export function averageOf(sum: number, count: number): number {
  return count === 0 ? 0 : Math.round(sum / count);
}

/** The distribution of integer µs values (any order). */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { ...EMPTY_PERCENTILES };
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    averageUs: averageOf(sum, sorted.length),
    medianUs: nearestRank(sorted, 50),
    p95Us: nearestRank(sorted, 95),
    p99Us: nearestRank(sorted, 99),
    minUs: sorted[0] ?? 0,
    maxUs: sorted[sorted.length - 1] ?? 0,
  };
}

/** A percentage 0–100 rounded to 2 decimals: `Math.round(part * 10000 / whole) / 100`; 0 when `whole` is 0. */
export function rateOf(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part * 10000) / whole) / 100;
}

/** `count` per `unitUs` over a window of `windowUs`, rounded to 2 decimals: `Math.round(count * unitUs * 100 / windowUs) / 100`; 0 for an empty window. */
export function perUnit(count: number, windowUs: number, unitUs: number): number {
  return windowUs <= 0 ? 0 : Math.round((count * unitUs * 100) / windowUs) / 100;
}
