import { html } from "hono/html";
import type { Html } from "./format.js";

/** Pure: counts of `timesUs` in `buckets` equal slices of [startUs, endUs]. */
export function bucketCounts(timesUs: readonly number[], startUs: number, endUs: number, buckets: number): number[] {
  const out = new Array<number>(buckets).fill(0);
  const width = Math.max(1, (endUs - startUs) / buckets);
  for (const t of timesUs) {
    if (t < startUs || t > endUs) continue;
    out[Math.min(buckets - 1, Math.floor((t - startUs) / width))]! += 1;
  }
  return out;
}

/** A small bar sparkline of counts in inline SVG. */
export function sparklineSvg(counts: readonly number[], label: string): Html {
  const max = Math.max(1, ...counts);
  const w = 4;
  const bars = counts.map(
    (c, i) => html`<rect x="${i * w}" y="${20 - (c / max) * 20}" width="${w - 1}" height="${(c / max) * 20}"></rect>`,
  );
  return html`<svg
    class="sparkline"
    viewBox="0 0 ${counts.length * w} 20"
    width="${counts.length * w}"
    height="20"
    role="img"
    aria-label="${label}"
  >
    ${bars}
  </svg>`;
}
