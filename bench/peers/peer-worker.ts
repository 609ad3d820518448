/**
 * The worker process of the peer comparison: `node --import tsx bench/peers/peer-worker.ts <system> <mode> <location> [n]`.
 *  - drain: runs the system's worker until n jobs finished and the storage says none is left, then prints the first
 *    start time, the drained time and the peak RSS (sampled every 100 ms) and exits.
 *  - idle: prints `ready`, then one line per started job (its key and the wall-clock ms at which it started) until SIGTERM.
 * Protocol lines on stdout start with `@@peer `; anything else the libraries print is ignored.
 */
import { startCairnWorker } from "./cairn-peer.js";
import { startGraphileWorker } from "./graphile-peer.js";
import { wallMs } from "./install.js";
import type { StartPeerWorker } from "./peer-system.js";
import { startPgBossWorker } from "./pg-boss-peer.js";

const STARTERS: Record<string, StartPeerWorker> = {
  graphile: startGraphileWorker,
  "pg-boss": startPgBossWorker,
  cairn: startCairnWorker,
};

function say(line: Record<string, unknown>): void {
  process.stdout.write(`@@peer ${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const [system, mode, location, nText] = process.argv.slice(2);
  const start = system ? STARTERS[system] : undefined;
  if (!start || (mode !== "drain" && mode !== "idle") || !location)
    throw new Error("usage: peer-worker.ts graphile|pg-boss|cairn drain|idle <location> [n]");
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const n = Number(nText ?? 0);
  let firstStartMs = Number.NaN;
  let finished = 0;
  let allFinished: () => void = () => {};
  const finishedAll = new Promise<void>((r) => {
    allFinished = r;
  });
  const worker = await start(
    location,
    {
      started: (key, atMs) => {
        if (mode === "idle") say({ started: key, atMs });
        else if (Number.isNaN(firstStartMs)) firstStartMs = atMs;
      },
      finished: () => {
        if (++finished === n) allFinished();
      },
    },
    mode,
  );

  if (mode === "idle") {
    say({ ready: true });
    await new Promise<void>((r) => process.once("SIGTERM", () => r()));
  } else {
    await finishedAll;
    while (!(await worker.drained())) await new Promise((r) => setTimeout(r, 5));
    const drainedMs = wallMs();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    say({ firstStartMs, drainedMs, finished, peakRssBytes: peakRss });
  }
  clearInterval(sampler);
  await worker.stop();
}

main().then(
  () => setImmediate(() => process.exit(0)),
  (err: unknown) => {
    process.stderr.write(`peer worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
