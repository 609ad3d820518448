import type { Event, StepEvent, WorkflowEvent } from "../events.js";
import { computeErrorFingerprints } from "../fingerprint.js";
import { projectRunState } from "../project-run.js";
import { projectStepStates } from "../project-step.js";
import type { StepError } from "../schemas.js";
import { isTerminalRunStatus } from "../schemas.js";
import type { LiveState } from "./queue.js";

/** One fixture event with the run it belongs to. */
export interface AnalyticsFixtureItem {
  workflowSlug: string;
  runId: string;
  event: Event;
}

const S = 1_000_000;
/** The clock of the fixture's expected answers: `baseUs + 3600 s` (the end of its one-hour window). */
export const ANALYTICS_FIXTURE_NOW_OFFSET_US = 3_600 * S;

const stackA = (line: number) =>
  "    at Socket.onConnect (/home/alice/cairn-app/node_modules/pg/lib/connection.js:88:14)\n" +
  `    at connect (/home/alice/cairn-app/src/db/connect.js:${line}:11)\n` +
  "    at extract (/home/alice/cairn-app/src/steps/extract.js:7:3)\n" +
  "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)";
const stackB =
  "    at Socket.onConnect (C:\\deploy\\cairn-app\\node_modules\\.pnpm\\pg@8.16.0\\node_modules\\pg\\lib\\connection.js:88:14)\n" +
  "    at connect (C:\\deploy\\cairn-app\\src\\db\\connect.js:42:11)\n" +
  "    at extract (C:\\deploy\\cairn-app\\src\\steps\\extract.js:7:3)\n" +
  "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)";
const connErr = (message: string, frames: string): StepError => ({
  name: "ConnectionError",
  message,
  stack: `ConnectionError: ${message}\n${frames}`,
});

/**
 * The errors of the fixture. E1a/E1b/E1c are one bug: E1a and E1b on machine A (connect.js line 42, then 44 after an
 * edit) with different numbers in the message, E1c on machine B (Windows, pnpm). Exact: three groups; normalized:
 * {E1a, E1b} and {E1c}; portable: one group. E2 and EW are distinct; EW has no stack; E3 lies before the window.
 */
export const ANALYTICS_FIXTURE_ERRORS = {
  E1a: connErr("Connection to 10.0.0.1 refused after 3000 ms", stackA(42)),
  E1b: connErr("Connection to 10.0.0.2 refused after 5000 ms", stackA(44)),
  E1c: connErr("Connection to 10.0.0.3 refused after 3000 ms", stackB),
  E2: {
    name: "ValidationError",
    message: "Row 17 invalid: missing field 'email'",
    stack:
      "ValidationError: Row 17 invalid: missing field 'email'\n    at validateRow (/home/alice/cairn-app/src/steps/validate.js:21:9)\n    at Array.map (<anonymous>)\n    at extract (/home/alice/cairn-app/src/steps/extract.js:9:5)",
  },
  EW: {
    name: "WorkerCrashError",
    message: "Worker w3 stopped heartbeating attempt 1 and the retry budget (0) is spent.",
  },
  E3: { name: "Error", message: "Disk full" },
} satisfies Record<string, StepError>;

/**
 * A fixed, deterministic event log for analytics conformance (all timestamps relative to `baseUs`, which must be at
 * least 100 s). Window of the expected answers: [baseUs, baseUs + 3600 s]; clock: baseUs + 3600 s.
 * - run-etl-0 (etl): fails just before the window (last events at baseUs - 1 µs).
 * - run-etl-1 (etl): extract fails (E1a), is retried and completes; load completes; run completes. Submitted at baseUs exactly.
 * - run-etl-2 (etl): extract attempt 1 reclaimed from w3 (zombie heartbeat after), attempt 2 fails (E1b), attempt 3 fails terminally (E1c); run fails.
 * - run-bill-1 (billing): charge reclaimed from w2, retried on w1; w2's zombie heartbeat and stale completion; run cancelled.
 * - run-bill-2 (billing): invoice reclaimed from w3 with no budget left: terminal worker-crash failure (EW); run fails.
 * - run-rep-1 (reports): lint skipped, render and notify complete; run completes.
 * - run-rep-2 (reports): rerun of run-rep-1 from notify: render and lint copied (copiedFromRunId, ignored), notify re-runs.
 * - run-etl-3 (etl): live; extract failed (E2) and waits for a retry at +4000 s, validate running on w2 (heartbeat at +3590 s), transform ready since +3100 s.
 * - run-bill-3 (billing): pending, available only at +5000 s. run-rep-3 (reports): pending, ready.
 * - run-rep-4 (reports): render completes at +3600 s exactly (inside); the run completes 1 µs after the window.
 */
export function buildAnalyticsFixture(baseUs: number): AnalyticsFixtureItem[] {
  const items: AnalyticsFixtureItem[] = [];
  let n = 0;
  const at = (t: number) => baseUs + Math.round(t * S);
  const push = (workflowSlug: string, runId: string, t: number, fields: Record<string, unknown>) => {
    const event = {
      eventId: `afx-${String(++n).padStart(4, "0")}`,
      timestampUs: at(t),
      workflowSlug,
      runId,
      ...fields,
    } as Event;
    items.push({ workflowSlug, runId, event });
  };
  const runOf = (slug: string, runId: string) => ({
    wf: (t: number, type: WorkflowEvent["type"], body: Record<string, unknown> = {}) =>
      push(slug, runId, t, { category: "workflow", type, ...body }),
    st: (t: number, stepId: string, type: StepEvent["type"], body: Record<string, unknown> = {}) =>
      push(slug, runId, t, { category: "step", stepId, type, ...body }),
    submitted: (t: number, availableAt = t, extra: Record<string, unknown> = {}) =>
      push(slug, runId, t, {
        category: "workflow",
        type: "RunSubmitted",
        availableAtUs: at(availableAt),
        priority: 0,
        hasInputSchema: false,
        ...extra,
      }),
    started: (t: number) =>
      push(slug, runId, t, {
        category: "workflow",
        type: "WorkflowStarted",
        workflowAttemptNumber: 1,
        hasInputSchema: false,
        hasInput: false,
      }),
    sched: (
      t: number,
      stepId: string,
      attemptNumber: number,
      availableAt = t,
      reason = attemptNumber > 1 ? "retry" : "initial",
    ) =>
      push(slug, runId, t, {
        category: "step",
        stepId,
        type: "StepScheduled",
        availableAtUs: at(availableAt),
        reason,
        attemptNumber,
      }),
    start: (t: number, stepId: string, attemptNumber: number, workerId: string, workerConcurrency?: number) =>
      push(slug, runId, t, {
        category: "step",
        stepId,
        type: "StepStarted",
        workerId,
        dependencies: [],
        attemptNumber,
        ...(workerConcurrency ? { workerConcurrency } : {}),
      }),
    beat: (t: number, stepId: string, attemptNumber: number, workerId: string, workerConcurrency?: number) =>
      push(slug, runId, t, {
        category: "step",
        stepId,
        type: "StepHeartbeat",
        workerId,
        attemptNumber,
        ...(workerConcurrency ? { workerConcurrency } : {}),
      }),
    done: (t: number, stepId: string, attemptNumber: number, durationS: number, extra: Record<string, unknown> = {}) =>
      push(slug, runId, t, {
        category: "step",
        stepId,
        type: "StepCompleted",
        output: "{}",
        durationUs: durationS * S,
        attemptNumber,
        exportOutput: false,
        ...extra,
      }),
    fail: (
      t: number,
      stepId: string,
      attemptNumber: number,
      error: StepError,
      durationS: number,
      terminal: boolean,
      failureReason: string,
      nextRetryAt?: number,
    ) =>
      push(slug, runId, t, {
        category: "step",
        stepId,
        type: "StepFailed",
        error,
        errorFingerprints: computeErrorFingerprints(error),
        durationUs: durationS * S,
        attemptNumber,
        terminal,
        failureReason,
        ...(nextRetryAt !== undefined ? { nextRetryAtUs: at(nextRetryAt) } : {}),
      }),
    reclaim: (t: number, stepId: string, attemptNumber: number, originalWorkerId: string, lastHeartbeat: number) =>
      push(slug, runId, t, {
        category: "step",
        stepId,
        type: "StepReclaimed",
        originalWorkerId,
        reclaimedBy: "reaper-1",
        lastHeartbeatUs: at(lastHeartbeat),
        staleThresholdUs: 20 * S,
        staleDurationUs: Math.round((t - lastHeartbeat) * S),
        attemptNumber,
      }),
    retrying: (t: number, stepId: string, attemptNumber: number, error: StepError) =>
      push(slug, runId, t, {
        category: "step",
        stepId,
        type: "StepRetrying",
        attemptNumber,
        nextAttempt: attemptNumber + 1,
        error: { name: error.name, message: error.message },
        maxRetries: 2,
      }),
    completed: (t: number, durationS: number, totalSteps: number) =>
      push(slug, runId, t, {
        category: "workflow",
        type: "WorkflowCompleted",
        workflowAttemptNumber: 1,
        output: "{}",
        durationUs: durationS * S,
        totalSteps,
      }),
    failed: (t: number, durationS: number, failedStep: string, failureReason: string, error: StepError) =>
      push(slug, runId, t, {
        category: "workflow",
        type: "WorkflowFailed",
        workflowAttemptNumber: 1,
        error: { name: error.name, message: error.message },
        durationUs: durationS * S,
        completedSteps: 0,
        failedStep,
        failureReason,
      }),
  });
  const E = ANALYTICS_FIXTURE_ERRORS;
  const us = 1 / S;

  const r0 = runOf("etl", "run-etl-0");
  r0.submitted(-100);
  r0.started(-99);
  r0.sched(-99, "extract", 1);
  r0.start(-98, "extract", 1, "w1");
  r0.fail(-us, "extract", 1, E.E3, 98, true, "execution-error");
  r0.failed(-us, 99, "extract", "step-failed", E.E3);

  const r1 = runOf("etl", "run-etl-1");
  r1.submitted(0);
  r1.started(1);
  r1.sched(1, "extract", 1);
  r1.start(3, "extract", 1, "w1", 4);
  r1.fail(5, "extract", 1, E.E1a, 2, false, "execution-error", 7);
  r1.retrying(5, "extract", 1, E.E1a);
  r1.sched(5, "extract", 2, 7);
  r1.start(8, "extract", 2, "w2", 2);
  r1.done(10, "extract", 2, 2);
  r1.sched(10, "load", 1, 10, "dependency-satisfied");
  r1.start(14, "load", 1, "w1", 4);
  r1.beat(15, "load", 1, "w1", 4);
  r1.done(20, "load", 1, 6);
  r1.completed(21, 21, 2);

  const r2 = runOf("etl", "run-etl-2");
  r2.submitted(100);
  r2.started(101);
  r2.sched(101, "extract", 1);
  r2.start(102, "extract", 1, "w3");
  r2.beat(110, "extract", 1, "w3");
  r2.reclaim(200, "extract", 1, "w3", 110);
  r2.sched(200, "extract", 2);
  r2.start(205, "extract", 2, "w1", 4);
  r2.beat(206, "extract", 1, "w3");
  r2.fail(210, "extract", 2, E.E1b, 5, false, "execution-error", 212);
  r2.retrying(210, "extract", 2, E.E1b);
  r2.sched(210, "extract", 3, 212);
  r2.start(215, "extract", 3, "w1", 4);
  r2.fail(220, "extract", 3, E.E1c, 5, true, "exhausted-retries");
  r2.failed(221, 120, "extract", "step-failed", E.E1c);

  const b1 = runOf("billing", "run-bill-1");
  b1.submitted(300);
  b1.started(301);
  b1.sched(301, "charge", 1);
  b1.start(302, "charge", 1, "w2", 2);
  b1.reclaim(330, "charge", 1, "w2", 302);
  b1.sched(330, "charge", 2);
  b1.start(331, "charge", 2, "w1", 4);
  b1.beat(335, "charge", 1, "w2");
  b1.done(340, "charge", 1, 38);
  b1.wf(350, "WorkflowCancelled", {
    workflowAttemptNumber: 1,
    reason: "user request",
    durationUs: 49 * S,
    completedSteps: 0,
  });

  const b2 = runOf("billing", "run-bill-2");
  b2.submitted(400);
  b2.started(401);
  b2.sched(401, "invoice", 1);
  b2.start(403, "invoice", 1, "w3");
  b2.reclaim(500, "invoice", 1, "w3", 403);
  b2.fail(500, "invoice", 1, E.EW, 97, true, "worker-crash");
  b2.failed(501, 100, "invoice", "worker-crash", E.EW);

  const p1 = runOf("reports", "run-rep-1");
  p1.submitted(600);
  p1.started(601);
  p1.sched(601, "render", 1);
  p1.sched(601, "lint", 1);
  p1.st(602, "lint", "StepSkipped", { skipType: "primary", reason: "disabled", durationUs: 0, attemptNumber: 1 });
  p1.start(606, "render", 1, "w2", 2);
  p1.done(609, "render", 1, 3);
  p1.sched(609, "notify", 1, 609, "dependency-satisfied");
  p1.start(610, "notify", 1, "w2", 2);
  p1.done(611, "notify", 1, 1);
  p1.completed(612, 12, 3);

  const p2 = runOf("reports", "run-rep-2");
  p2.submitted(700, 700, { parentRunId: "run-rep-1" });
  p2.wf(700, "WorkflowRerunFromStep", {
    parentRunId: "run-rep-1",
    rerunFromStepId: "notify",
    rerunStepIds: ["notify"],
  });
  p2.done(700, "render", 1, 3, { copiedFromRunId: "run-rep-1" });
  p2.st(700, "lint", "StepSkipped", {
    skipType: "primary",
    reason: "disabled",
    durationUs: 0,
    attemptNumber: 1,
    copiedFromRunId: "run-rep-1",
  });
  p2.started(701);
  p2.sched(701, "notify", 1);
  p2.start(702, "notify", 1, "w2", 2);
  p2.done(704, "notify", 1, 2);
  p2.completed(705, 5, 3);

  const r3 = runOf("etl", "run-etl-3");
  r3.submitted(3000);
  r3.started(3001);
  r3.sched(3001, "extract", 1);
  r3.sched(3001, "validate", 1);
  r3.start(3002, "extract", 1, "w1", 4);
  r3.start(3003, "validate", 1, "w2", 2);
  r3.fail(3005, "extract", 1, E.E2, 3, false, "execution-error", 4000);
  r3.retrying(3005, "extract", 1, E.E2);
  r3.sched(3005, "extract", 2, 4000);
  r3.sched(3100, "transform", 1, 3100, "dependency-satisfied");
  r3.beat(3590, "validate", 1, "w2", 2);

  runOf("billing", "run-bill-3").submitted(3500, 5000);
  runOf("reports", "run-rep-3").submitted(3550);

  const p4 = runOf("reports", "run-rep-4");
  p4.submitted(3590);
  p4.started(3591);
  p4.sched(3591, "render", 1);
  p4.start(3592, "render", 1, "w2", 2);
  p4.done(3600, "render", 1, 8);
  p4.completed(3600 + us, 10, 1);
  return items;
}

/** The live state of an event log as a driver holds it: projections of its non-terminal runs and of their steps. */
export function projectLiveState(events: readonly Event[]): LiveState {
  const byRun = new Map<string, Event[]>();
  for (const ev of events) byRun.set(ev.runId, [...(byRun.get(ev.runId) ?? []), ev]);
  const live: LiveState = { runs: [], steps: [] };
  for (const list of byRun.values()) {
    const run = projectRunState(list.filter((e): e is WorkflowEvent => e.category === "workflow"));
    if (!run || isTerminalRunStatus(run.status)) continue;
    live.runs.push(run);
    live.steps.push(...projectStepStates(list.filter((e): e is StepEvent => e.category === "step")).values());
  }
  return live;
}
