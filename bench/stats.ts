/** Statistics, timing and memory sampling shared by every workload. */

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function min(values: number[]): number {
  return values.length ? Math.min(...values) : Number.NaN;
}

export function max(values: number[]): number {
  return values.length ? Math.max(...values) : Number.NaN;
}

/** Rounds to a few significant digits for readable JSON. */
export function round(n: number, digits = 4): number {
  if (!Number.isFinite(n) || n === 0) return n;
  const mag = Math.floor(Math.log10(Math.abs(n)));
  const f = 10 ** Math.max(0, digits - 1 - mag);
  return Math.round(n * f) / f;
}

/** High-resolution milliseconds. */
export function nowMs(): number {
  return performance.now();
}

/**
 * Samples RSS and V8 heap every `intervalMs` while a measurement runs. Samples are taken between awaits only: a
 * purely synchronous query (better-sqlite3) is seen before and after, not in the middle, so its peak is a lower bound.
 */
export class MemSampler {
  peakRss = 0;
  peakHeap = 0;
  readonly startRss: number;
  readonly startHeap: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(intervalMs = 5) {
    const m = process.memoryUsage();
    this.startRss = m.rss;
    this.startHeap = m.heapUsed;
    this.peakRss = m.rss;
    this.peakHeap = m.heapUsed;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.peakRss) this.peakRss = m.rss;
    if (m.heapUsed > this.peakHeap) this.peakHeap = m.heapUsed;
  }

  stop(): { peakRssBytes: number; peakHeapBytes: number; rssGrowthBytes: number; heapGrowthBytes: number } {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return {
      peakRssBytes: this.peakRss,
      peakHeapBytes: this.peakHeap,
      rssGrowthBytes: this.peakRss - this.startRss,
      heapGrowthBytes: this.peakHeap - this.startHeap,
    };
  }
}

/** Runs `fn` (which resolves to one measured value) `runs` times; returns the values and the memory seen meanwhile. */
export async function repeat(
  runs: number,
  fn: (i: number) => Promise<number>,
): Promise<{ values: number[]; mem: ReturnType<MemSampler["stop"]> }> {
  const sampler = new MemSampler();
  const values: number[] = [];
  try {
    for (let i = 0; i < runs; i++) values.push(await fn(i));
    return { values, mem: sampler.stop() };
  } catch (err) {
    sampler.stop();
    throw err;
  }
}

/**
 * Runs `worker` in `concurrency` async loops until `stopAfterMs` has passed or `maxOps` operations were done.
 * `worker(i)` performs one operation and resolves to how many units it did (0 = nothing left, that loop stops).
 * Returns units per second over the wall time.
 */
export async function throughput(
  concurrency: number,
  stopAfterMs: number,
  maxOps: number,
  worker: (loop: number) => Promise<number>,
): Promise<{ perSecond: number; units: number; elapsedMs: number }> {
  let units = 0;
  let ops = 0;
  const t0 = nowMs();
  const deadline = t0 + stopAfterMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (nowMs() < deadline && ops < maxOps) {
        ops++;
        const n = await worker(loop);
        if (n === 0) return;
        units += n;
      }
    }),
  );
  const elapsedMs = nowMs() - t0;
  return { perSecond: (units * 1000) / elapsedMs, units, elapsedMs };
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
