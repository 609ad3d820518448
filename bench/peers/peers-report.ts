/** The peer comparison's side-by-side table and its ratios (Cairn ÷ peer), printed on stderr with the progress. */

/** Medians per system id, as the summary needs them. */
export interface PeerResults {
  /** Jobs/s (Cairn: runs/s) and steps per job. */
  drain: Record<string, { median: number; steps: number }>;
  enqueue: Record<string, number>;
  enqueueDrain: Record<string, number>;
  /** Worker peak RSS, bytes. */
  rss: Record<string, number>;
  /** Enqueue → start, ms. */
  latency: Record<string, { p50: number; p99: number }>;
}

const PEERS = ["graphile-defaults", "graphile-tuned", "pg-boss-tuned"];

function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function ratio(x: number | undefined, y: number | undefined): number | undefined {
  return x !== undefined && y !== undefined && y > 0 && Number.isFinite(x) ? x / y : undefined;
}

/** Prints the table and the ratios; returns the ratios by name (`cairn-postgres drain / graphile-defaults`). */
export function printPeerSummary(r: PeerResults, log: (line: string) => void): Record<string, number> {
  const ids = [...new Set([...Object.keys(r.drain), ...Object.keys(r.latency)])];
  const head = [
    "system",
    "drain jobs/s",
    "steps/s",
    "enqueue jobs/s",
    "enqueue+drain jobs/s",
    "worker peak RSS MB",
    "enqueue→start p50 ms",
    "p99 ms",
  ];
  const rows = ids.map((id) => {
    const d = r.drain[id];
    const l = r.latency[id];
    return [
      id,
      fmt(d?.median),
      fmt(d ? d.median * d.steps : undefined),
      fmt(r.enqueue[id]),
      fmt(r.enqueueDrain[id]),
      fmt(r.rss[id] === undefined ? undefined : r.rss[id]! / 2 ** 20),
      fmt(l?.p50),
      fmt(l?.p99),
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  log("peers: side by side (Cairn rates are runs/s; the chain's steps/s is 5 × its runs/s)");
  log(line(head));
  for (const row of rows) log(line(row));

  const out: Record<string, number> = {};
  const add = (name: string, value: number | undefined) => {
    if (value !== undefined) out[name] = value;
  };
  const cairn = ids.filter((id) => id.startsWith("cairn-"));
  for (const c of cairn) {
    for (const p of PEERS) {
      const cd = r.drain[c];
      if (cd)
        add(`${c} drain${cd.steps > 1 ? " (steps/s)" : ""} / ${p}`, ratio(cd.median * cd.steps, r.drain[p]?.median));
      if (cd && cd.steps === 1) {
        add(`${c} enqueue / ${p}`, ratio(r.enqueue[c], r.enqueue[p]));
        add(`${c} enqueue+drain / ${p}`, ratio(r.enqueueDrain[c], r.enqueueDrain[p]));
        add(`${c} worker peak RSS / ${p}`, ratio(r.rss[c], r.rss[p]));
      }
      add(`${c} enqueue→start p50 / ${p}`, ratio(r.latency[c]?.p50, r.latency[p]?.p50));
    }
  }
  // What flow control costs: the same drain with a concurrency declaration that never binds, over the one without.
  for (const c of cairn.filter((id) => id.endsWith("-gated"))) {
    const plain = c.slice(0, -"-gated".length);
    add(`${c} drain / ${plain} drain`, ratio(r.drain[c]?.median, r.drain[plain]?.median));
    add(`${c} enqueue / ${plain} enqueue`, ratio(r.enqueue[c], r.enqueue[plain]));
  }
  log(
    "peers: ratios, Cairn ÷ peer (rates: above 1 is Cairn faster; RSS and latency: above 1 is Cairn bigger or slower)",
  );
  for (const [name, value] of Object.entries(out))
    log(`  ${name} = ${value < 0.1 ? value.toFixed(3) : value.toFixed(2)}x`);
  return out;
}
