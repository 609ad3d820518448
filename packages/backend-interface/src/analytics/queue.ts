import type { RunState } from "../run-state.js";
import { isTerminalRunStatus } from "../schemas.js";
import type { StepState } from "../step-state.js";
import { compareStrings } from "./window.js";

/** Non-terminal runs and their steps (projected states): the input of the queue-depth queries. */
export interface LiveState {
  runs: RunState[];
  steps: StepState[];
}

/**
 * A real-time queue snapshot at `nowUs`. Only live runs count (status pending or running; terminal ones in the input are
 * ignored), and only steps of those runs. "Ready" means available now (`availableAtUs <= nowUs`); "delayed" means later
 * (retry back-off, future runs).
 */
export interface QueueDepth {
  /** Runs with status pending = readyRuns + delayedRuns. */
  pendingRuns: number;
  readyRuns: number;
  delayedRuns: number;
  runningRuns: number;
  /** Steps with status scheduled = readySteps + delayedSteps. */
  scheduledSteps: number;
  readySteps: number;
  delayedSteps: number;
  /** Delayed steps that wait (a sleep, a signal, a poll: `waiting` set, not yet available): part of delayedSteps. */
  waitingSteps: number;
  runningSteps: number;
  /** Smallest availableAtUs of a ready step; null when none. */
  oldestReadyStepAvailableAtUs: number | null;
  /** `nowUs - oldestReadyStepAvailableAtUs`; 0 when none. */
  oldestReadyStepAgeUs: number;
  /** Smallest createdAtUs of a pending run; null when none. */
  oldestPendingRunCreatedAtUs: number | null;
  /** `nowUs - oldestPendingRunCreatedAtUs`; 0 when none. */
  oldestPendingRunAgeUs: number;
}

/** The queue snapshot of each workflow with at least one live run, workflowSlug asc. */
export type QueueDepthByWorkflow = Array<{ workflowSlug: string } & QueueDepth>;

const minOf = (values: number[]): number | null => (values.length ? values.reduce((a, b) => Math.min(a, b)) : null);

/** Computes QueueDepth over the live state, of one workflow when `workflowSlug` is given. Pure. */
export function computeQueueDepth(live: LiveState, options: { workflowSlug?: string }, nowUs: number): QueueDepth {
  const slug = options.workflowSlug;
  const runs = live.runs.filter(
    (r) => !isTerminalRunStatus(r.status) && (slug === undefined || r.workflowSlug === slug),
  );
  const liveRunIds = new Set(runs.map((r) => r.runId));
  const steps = live.steps.filter((s) => liveRunIds.has(s.runId));
  const pending = runs.filter((r) => r.status === "pending");
  const readyRuns = pending.filter((r) => r.availableAtUs <= nowUs).length;
  const scheduled = steps.filter((s) => s.status === "scheduled");
  const ready = scheduled.filter((s) => (s.availableAtUs ?? 0) <= nowUs);
  const oldestStep = minOf(ready.map((s) => s.availableAtUs ?? 0));
  const oldestRun = minOf(pending.map((r) => r.createdAtUs));
  return {
    pendingRuns: pending.length,
    readyRuns,
    delayedRuns: pending.length - readyRuns,
    runningRuns: runs.filter((r) => r.status === "running").length,
    scheduledSteps: scheduled.length,
    readySteps: ready.length,
    delayedSteps: scheduled.length - ready.length,
    waitingSteps: scheduled.filter((s) => s.waiting !== undefined && (s.availableAtUs ?? 0) > nowUs).length,
    runningSteps: steps.filter((s) => s.status === "running").length,
    oldestReadyStepAvailableAtUs: oldestStep,
    oldestReadyStepAgeUs: oldestStep === null ? 0 : Math.max(0, nowUs - oldestStep),
    oldestPendingRunCreatedAtUs: oldestRun,
    oldestPendingRunAgeUs: oldestRun === null ? 0 : Math.max(0, nowUs - oldestRun),
  };
}

/** Computes QueueDepth per workflow that has a live run. Pure. */
export function computeQueueDepthByWorkflow(live: LiveState, nowUs: number): QueueDepthByWorkflow {
  const slugs = [...new Set(live.runs.filter((r) => !isTerminalRunStatus(r.status)).map((r) => r.workflowSlug))].sort(
    compareStrings,
  );
  return slugs.map((workflowSlug) => ({ workflowSlug, ...computeQueueDepth(live, { workflowSlug }, nowUs) }));
}
