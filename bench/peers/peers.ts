/**
 * The `peers` workload: Cairn beside graphile-worker and pg-boss on the same no-op work, in one run. Rounds are
 * interleaved (round 1 runs every system once, round 2 again, ...) and every system gets fresh storage per round.
 *  - drain: N jobs enqueued at once (the enqueue is timed: "enqueue"), then one worker process with 10 slots drains
 *    them; jobs/s from the first job start to the moment the storage holds no unfinished job (Cairn: runs/s).
 *    Enqueue + drain together is N ÷ (enqueue time + drain time). Worker peak RSS sampled every 100 ms.
 *  - latency: an idle worker in another process; one job at a time, 10 ms apart; start time (read by the job) − the
 *    time just before the enqueue call; samples pooled over the rounds.
 */
import type { BenchContext } from "../report.js";
import { emit, emitError, progress } from "../report.js";
import { max, median, min, percentile, sleep } from "../stats.js";
import { cairnPeer } from "./cairn-peer.js";
import { graphilePeer } from "./graphile-peer.js";
import { ensurePeersInstalled, wallMs } from "./install.js";
import { SLOTS, type PeerSystem } from "./peer-system.js";
import { spawnPeer } from "./peer-process.js";
import { printPeerSummary, type PeerResults } from "./peers-report.js";
import { pgBossPeer } from "./pg-boss-peer.js";

interface DrainSample {
  enqueuePerSec: number;
  drainPerSec: number;
  enqueueDrainPerSec: number;
  workerPeakRss: number;
  enqueueApi: string;
}

async function drainOnce(system: PeerSystem, jobs: number): Promise<DrainSample> {
  const prepared = await system.prepare();
  try {
    const t0 = performance.now();
    await prepared.enqueueMany(jobs);
    const enqueueMs = performance.now() - t0;
    const worker = spawnPeer(system.kind, "drain", prepared.location, jobs);
    try {
      const done = await worker.next((l) => "drainedMs" in l, 900_000, `${system.id} drain`);
      const drainMs = Number(done.drainedMs) - Number(done.firstStartMs);
      if (!(drainMs > 0)) throw new Error(`${system.id}: no drain time in ${JSON.stringify(done)}`);
      return {
        enqueuePerSec: (jobs * 1000) / enqueueMs,
        drainPerSec: (jobs * 1000) / drainMs,
        enqueueDrainPerSec: (jobs * 1000) / (enqueueMs + drainMs),
        workerPeakRss: Number(done.peakRssBytes),
        enqueueApi: prepared.enqueueApi,
      };
    } finally {
      await worker.stop();
    }
  } finally {
    await prepared.destroy();
  }
}

async function latencyOnce(system: PeerSystem, samples: number, offset: number): Promise<number[]> {
  const prepared = await system.prepare();
  const worker = spawnPeer(system.kind, "idle", prepared.location);
  try {
    await worker.next((l) => l.ready === true, 120_000, `${system.id} worker start`);
    await sleep(1000);
    const out: number[] = [];
    for (let s = 0; s < samples; s++) {
      const t0 = wallMs();
      const key = await prepared.enqueueOne(offset + s);
      const started = await worker.next((l) => l.started === key, 15_000, `${system.id} job ${key} start`);
      out.push(Number(started.atMs) - t0);
      await sleep(10);
    }
    return out;
  } finally {
    await worker.stop();
    await prepared.destroy();
  }
}

/** Runs the peer comparison and prints its table and ratios. */
export async function benchPeers(ctx: BenchContext): Promise<void> {
  ensurePeersInstalled(progress);
  const n = ctx.quick ? 300 : 20_000;
  const rounds = ctx.runs();
  const samplesPerRound = ctx.quick ? 20 : Math.ceil(300 / rounds);
  const usable = (s: PeerSystem) => ctx.drivers.includes(s.driver);
  const drainSystems = [
    graphilePeer("defaults"),
    graphilePeer("tuned"),
    pgBossPeer(),
    cairnPeer("postgres"),
    cairnPeer("sqlite"),
    cairnPeer("postgres", 5),
    cairnPeer("sqlite", 5),
    cairnPeer("postgres", 1, true),
    cairnPeer("sqlite", 1, true),
  ].filter(usable);
  const latencySystems = [
    graphilePeer("defaults"),
    pgBossPeer(),
    cairnPeer("postgres"),
    cairnPeer("sqlite"),
    cairnPeer("fs"),
  ].filter(usable);
  const jobsOf = (s: PeerSystem) => Math.round(n / s.stepsPerJob); // the chain drains N steps: N/5 runs
  const drains = new Map<string, DrainSample[]>();
  const latencies = new Map<string, number[]>();
  const failed = new Set<string>();
  const fail = (workload: string, s: PeerSystem, params: Record<string, unknown>, err: unknown) => {
    failed.add(`${workload}:${s.id}`);
    emitError(ctx, workload, s.id, params, err);
  };

  for (let round = 1; round <= rounds; round++) {
    for (const s of drainSystems) {
      if (failed.has(`peers-drain:${s.id}`)) continue;
      progress(`peers round ${round}/${rounds}: drain ${s.id} (${jobsOf(s)} jobs)`);
      try {
        const r = await drainOnce(s, jobsOf(s));
        drains.set(s.id, [...(drains.get(s.id) ?? []), r]);
        progress(
          `  enqueue ${Math.round(r.enqueuePerSec)}/s, drain ${Math.round(r.drainPerSec)}/s, worker peak RSS ${Math.round(r.workerPeakRss / 2 ** 20)} MB`,
        );
      } catch (err) {
        fail("peers-drain", s, { jobs: jobsOf(s), round }, err);
      }
    }
    for (const s of latencySystems) {
      if (failed.has(`peers-enqueue-to-start:${s.id}`)) continue;
      progress(`peers round ${round}/${rounds}: enqueue → start ${s.id} (${samplesPerRound} samples)`);
      try {
        const xs = await latencyOnce(s, samplesPerRound, (round - 1) * samplesPerRound);
        latencies.set(s.id, [...(latencies.get(s.id) ?? []), ...xs]);
        progress(`  p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms`);
      } catch (err) {
        fail("peers-enqueue-to-start", s, { samples: samplesPerRound, round }, err);
      }
    }
  }

  const results: PeerResults = { drain: {}, enqueue: {}, enqueueDrain: {}, rss: {}, latency: {} };
  const rss = process.memoryUsage().rss;
  const apis = new Map([...drains].map(([id, xs]) => [id, xs[0]?.enqueueApi]));
  for (const s of drainSystems) {
    const xs = drains.get(s.id);
    if (!xs?.length) continue;
    const unit = s.kind === "cairn" ? "runs/s" : "jobs/s";
    const base = { jobs: jobsOf(s), stepsPerJob: s.stepsPerJob, slots: SLOTS, config: s.config, rounds: xs.length };
    const d = xs.map((x) => x.drainPerSec);
    const e = xs.map((x) => x.enqueuePerSec);
    const ed = xs.map((x) => x.enqueueDrainPerSec);
    const m = xs.map((x) => x.workerPeakRss);
    const api = apis.get(s.id) ?? "unknown";
    results.drain[s.id] = { median: median(d), steps: s.stepsPerJob };
    results.enqueue[s.id] = median(e);
    results.enqueueDrain[s.id] = median(ed);
    results.rss[s.id] = median(m);
    emit(ctx, {
      workload: "peers-drain",
      driver: s.id,
      params: base,
      runs: d.length,
      median: median(d),
      unit,
      min: min(d),
      max: max(d),
      peakRssBytes: rss,
      stepsPerSecondMedian: median(d) * s.stepsPerJob,
      workerPeakRssBytesMedian: median(m),
      workerPeakRssBytesMax: max(m),
    });
    emit(ctx, {
      workload: "peers-enqueue",
      driver: s.id,
      params: { ...base, api },
      runs: e.length,
      median: median(e),
      unit,
      min: min(e),
      max: max(e),
      peakRssBytes: rss,
    });
    emit(ctx, {
      workload: "peers-enqueue-drain",
      driver: s.id,
      params: { ...base, api },
      runs: ed.length,
      median: median(ed),
      unit,
      min: min(ed),
      max: max(ed),
      peakRssBytes: rss,
    });
  }
  for (const s of latencySystems) {
    const xs = latencies.get(s.id);
    if (!xs?.length) continue;
    results.latency[s.id] = { p50: percentile(xs, 50), p99: percentile(xs, 99) };
    emit(ctx, {
      workload: "peers-enqueue-to-start",
      driver: s.id,
      params: { samples: xs.length, gapMs: 10, config: s.config, rounds },
      runs: xs.length,
      median: median(xs),
      unit: "ms",
      min: min(xs),
      max: max(xs),
      p50: percentile(xs, 50),
      p99: percentile(xs, 99),
      peakRssBytes: rss,
    });
  }
  const ratios = printPeerSummary(results, progress);
  emit(ctx, {
    workload: "peers-ratios",
    driver: "-",
    params: { jobs: n, rounds },
    runs: rounds,
    median: Number.NaN,
    unit: "x (Cairn ÷ peer)",
    min: Number.NaN,
    max: Number.NaN,
    peakRssBytes: rss,
    ratios,
  });
}
