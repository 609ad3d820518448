import {
  compareStrings, percentiles, perUnit, rateOf,
  type RunOutcomes, type SchedulingLatency, type StepDuration, type StepOutcomes, type SuccessRate, type Throughput, type WorkerStability,
  type WorkerStabilityEntry, type WorkflowDuration,
} from "@cairn/backend-interface";
import { F, type FactRow } from "./sqlite-facts.js";

// Pure finishers of the analytics facts. Each equals its reference function in backend-interface/src/analytics
// (same definitions, same rounding helpers, same orders); the conformance suite checks them against it.

const HOUR_US = 3_600_000_000;
const MINUTE_US = 60_000_000;
const key2 = (a: string, b: string | null): string => `${a}\u0000${b ?? ""}`;
const attemptOf = (r: FactRow): string => `${r[F.run]}\u0000${r[F.step] ?? ""}\u0000${r[F.attempt] ?? ""}`;
const sortedSlugs = (slugs: Iterable<string>): string[] => [...new Set(slugs)].sort(compareStrings);

/** Counts per (workflowSlug, type, flag), as SqliteFacts.counts returns them. */
export type FactCounts = Array<{ slug: string; type: string; flag: number; n: number }>;

const sum = (counts: FactCounts, slug: string | undefined, test: (c: FactCounts[number]) => boolean): number =>
  counts.reduce((acc, c) => acc + ((slug === undefined || c.slug === slug) && test(c) ? c.n : 0), 0);
const isRunEnd = (c: { type: string }) => c.type === "WorkflowCompleted" || c.type === "WorkflowFailed" || c.type === "WorkflowCancelled";
const isStepEnd = (c: { type: string; flag: number }) => c.type === "StepCompleted" || c.type === "StepSkipped" || (c.type === "StepFailed" && c.flag === 1);

function runOutcomes(counts: FactCounts, slug?: string): RunOutcomes {
  const completed = sum(counts, slug, (c) => c.type === "WorkflowCompleted");
  const failed = sum(counts, slug, (c) => c.type === "WorkflowFailed");
  const cancelled = sum(counts, slug, (c) => c.type === "WorkflowCancelled");
  const total = completed + failed + cancelled;
  return { completed, failed, cancelled, total, successRate: rateOf(completed, total), failureRate: rateOf(failed, total), cancellationRate: rateOf(cancelled, total) };
}

function stepOutcomes(counts: FactCounts, slug?: string): StepOutcomes {
  const completed = sum(counts, slug, (c) => c.type === "StepCompleted");
  const failed = sum(counts, slug, (c) => c.type === "StepFailed" && c.flag === 1);
  const skipped = sum(counts, slug, (c) => c.type === "StepSkipped");
  const total = completed + failed + skipped;
  return { completed, failed, skipped, total, successRate: rateOf(completed, total), failureRate: rateOf(failed, total), skipRate: rateOf(skipped, total) };
}

/** SuccessRate from outcome counts (equals computeSuccessRate). */
export function successRateFrom(counts: FactCounts): SuccessRate {
  const slugs = sortedSlugs(counts.filter((c) => c.n > 0 && (isRunEnd(c) || isStepEnd(c))).map((c) => c.slug));
  return { runs: runOutcomes(counts), steps: stepOutcomes(counts), byWorkflow: slugs.map((workflowSlug) => ({ workflowSlug, runs: runOutcomes(counts, workflowSlug), steps: stepOutcomes(counts, workflowSlug) })) };
}

/** Throughput from outcome counts over a window of `windowUs` (equals computeThroughput). */
export function throughputFrom(counts: FactCounts, windowUs: number): Throughput {
  const isRun = (c: { type: string }) => c.type === "WorkflowCompleted";
  const isStep = (c: { type: string }) => c.type === "StepCompleted";
  const runs = sum(counts, undefined, isRun);
  const steps = sum(counts, undefined, isStep);
  const byWorkflow = sortedSlugs(counts.filter((c) => c.n > 0 && (isRun(c) || isStep(c))).map((c) => c.slug)).map((workflowSlug) => {
    const r = sum(counts, workflowSlug, isRun);
    const s = sum(counts, workflowSlug, isStep);
    return { workflowSlug, runsCompleted: r, stepsCompleted: s, runsPerHour: perUnit(r, windowUs, HOUR_US), stepsPerHour: perUnit(s, windowUs, HOUR_US) };
  });
  return {
    windowUs, runsCompleted: runs, stepsCompleted: steps, runsPerHour: perUnit(runs, windowUs, HOUR_US), runsPerMinute: perUnit(runs, windowUs, MINUTE_US),
    stepsPerHour: perUnit(steps, windowUs, HOUR_US), stepsPerMinute: perUnit(steps, windowUs, MINUTE_US), byWorkflow,
  };
}

/** Percentiles per (workflowSlug, stepId) of samples, sorted workflowSlug asc, stepId asc. */
function perStep(samples: Array<[string, string, number]>): SchedulingLatency["byStep"] {
  const groups = new Map<string, { workflowSlug: string; stepId: string; values: number[] }>();
  for (const [workflowSlug, stepId, v] of samples) {
    const k = key2(workflowSlug, stepId);
    const g = groups.get(k) ?? { workflowSlug, stepId, values: [] };
    g.values.push(v);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => ({ workflowSlug: g.workflowSlug, stepId: g.stepId, ...percentiles(g.values) }))
    .sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug) || compareStrings(a.stepId, b.stepId));
}

/** StepDuration and WorkflowDuration from StepCompleted/StepFailed/WorkflowCompleted/WorkflowFailed facts. */
export function durationsFrom(rows: readonly FactRow[]): { stepDuration: StepDuration; workflowDuration: WorkflowDuration } {
  const completed: Array<[string, string, number]> = [];
  const failed: number[] = [];
  const runsDone: number[] = [];
  const runsFailed: number[] = [];
  const bySlug = new Map<string, number[]>();
  for (const r of rows) {
    const d = r[F.duration] ?? 0;
    if (r[F.type] === "StepCompleted") completed.push([r[F.slug], r[F.step] ?? "", d]);
    else if (r[F.type] === "StepFailed") failed.push(d);
    else if (r[F.type] === "WorkflowCompleted") {
      runsDone.push(d);
      const list = bySlug.get(r[F.slug]);
      if (list) list.push(d);
      else bySlug.set(r[F.slug], [d]);
    } else if (r[F.type] === "WorkflowFailed") runsFailed.push(d);
  }
  return {
    stepDuration: { overall: percentiles(completed.map((c) => c[2])), failed: percentiles(failed), byStep: perStep(completed) },
    workflowDuration: {
      overall: percentiles(runsDone), failed: percentiles(runsFailed),
      byWorkflow: [...bySlug].map(([workflowSlug, values]) => ({ workflowSlug, ...percentiles(values) })).sort((a, b) => compareStrings(a.workflowSlug, b.workflowSlug)),
    },
  };
}

/** SchedulingLatency from StepScheduled/StepStarted facts (equals computeSchedulingLatency). */
export function schedulingLatencyFrom(rows: readonly FactRow[]): SchedulingLatency {
  const scheduled = new Map<string, FactRow[]>();
  for (const r of rows) {
    if (r[F.type] !== "StepScheduled") continue;
    const list = scheduled.get(attemptOf(r));
    if (list) list.push(r);
    else scheduled.set(attemptOf(r), [r]);
  }
  const samples: Array<[string, string, number]> = [];
  for (const start of rows) {
    if (start[F.type] !== "StepStarted") continue;
    let readyAt = -Infinity;
    for (const s of scheduled.get(attemptOf(start)) ?? []) if (s[F.ts] <= start[F.ts]) readyAt = Math.max(readyAt, Math.max(s[F.available] ?? 0, s[F.ts]));
    if (readyAt === -Infinity) continue;
    samples.push([start[F.slug], start[F.step] ?? "", Math.max(0, start[F.ts] - readyAt)]);
  }
  return { overall: percentiles(samples.map((s) => s[2])), byStep: perStep(samples) };
}

/** WorkerStability from StepStarted/StepHeartbeat/StepReclaimed/StepFailed/StepCompleted facts (equals computeWorkerStability). */
export function workerStabilityFrom(rows: readonly FactRow[]): WorkerStability {
  const of = (t: string) => rows.filter((r) => r[F.type] === t);
  const started = of("StepStarted");
  const beats = of("StepHeartbeat");
  const reclaims = of("StepReclaimed");
  const failed = of("StepFailed");
  const completed = of("StepCompleted");
  const owner = new Map<string, string>();
  for (const s of [...started].sort((a, b) => a[F.ts] - b[F.ts] || compareStrings(a[F.eventId], b[F.eventId]))) if (!owner.has(attemptOf(s))) owner.set(attemptOf(s), s[F.worker] ?? "");
  const reclaimedAt = new Map<string, number>();
  for (const r of reclaims) reclaimedAt.set(attemptOf(r), Math.min(reclaimedAt.get(attemptOf(r)) ?? Infinity, r[F.ts]));
  const isZombie = (h: FactRow) => h[F.ts] > (reclaimedAt.get(attemptOf(h)) ?? Infinity);
  const entries = new Map<string, WorkerStabilityEntry>();
  const entry = (workerId: string): WorkerStabilityEntry => {
    let e = entries.get(workerId);
    if (!e) {
      e = { workerId, stepsStarted: 0, stepsCompleted: 0, stepsFailed: 0, crashFailures: 0, reclaimedFrom: 0, heartbeats: 0, zombieHeartbeats: 0, reclaimRate: 0, lastSeenUs: null };
      entries.set(workerId, e);
    }
    return e;
  };
  const seen = (e: WorkerStabilityEntry, ts: number) => (e.lastSeenUs = e.lastSeenUs === null ? ts : Math.max(e.lastSeenUs, ts));
  for (const s of started) {
    const e = entry(s[F.worker] ?? "");
    seen(e, s[F.ts]);
    e.stepsStarted++;
  }
  for (const h of beats) {
    const e = entry(h[F.worker] ?? "");
    seen(e, h[F.ts]);
    e.heartbeats++;
    if (isZombie(h)) e.zombieHeartbeats++;
  }
  for (const r of reclaims) entry(r[F.worker] ?? "").reclaimedFrom++;
  for (const c of completed) {
    const w = owner.get(attemptOf(c));
    if (w !== undefined && entries.has(w)) entry(w).stepsCompleted++;
  }
  for (const f of failed) {
    const w = owner.get(attemptOf(f));
    if (w === undefined || !entries.has(w)) continue;
    entry(w).stepsFailed++;
    if (f[F.reason] === "worker-crash") entry(w).crashFailures++;
  }
  const workers = [...entries.values()].sort((a, b) => compareStrings(a.workerId, b.workerId)).map((e) => ({ ...e, reclaimRate: rateOf(e.reclaimedFrom, e.stepsStarted) }));
  return {
    workers,
    totals: {
      workers: workers.length, stepsStarted: started.length, reclaims: reclaims.length,
      crashFailures: failed.filter((f) => f[F.reason] === "worker-crash").length, zombieHeartbeats: beats.filter(isZombie).length,
    },
  };
}
