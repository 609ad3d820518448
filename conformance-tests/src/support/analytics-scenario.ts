import type { Backend, Event, LiveState, ManualClock, StepRef } from "@cairn/backend-interface";
import { WF, complete, failTerminally, runWithSteps, schedule, submit } from "./scenario.js";

/** The second workflow of the analytics scenario. */
export const WF_B = "wf-b";

/** What the analytics scenario built: run ids by role. */
export interface AnalyticsScenario {
  failedRun: string;
  reclaimedRun: string;
  completedRun: string;
  delayedRun: string;
  liveRun: string;
  cancelledRun: string;
  rerunChild: string;
}

const wfMeta = { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false };

async function claimAs(b: Backend, ref: StepRef, workerId: string, workerConcurrency: number): Promise<number> {
  const r = await b.claimScheduledStep(ref.workflowSlug, ref.runId, ref.stepId, workerId, {
    dependencies: [],
    timestamp: 0,
    attemptNumber: 0,
    slotIndex: 0,
    workerConcurrency,
  });
  if (!r) throw new Error(`scenario: claim of ${ref.stepId} failed`);
  return r.attemptNumber;
}

/**
 * Builds, through the public API and a ManualClock, a history touching every analytics query: completions, retries,
 * terminal failures with similar messages, a reclaim, skips, cancelled/delayed/live runs and a rerun with copied results.
 */
export async function buildAnalyticsScenario(b: Backend, clock: ManualClock): Promise<AnalyticsScenario> {
  const tick = (ms: number) => clock.advanceMs(ms);
  await b.registerWorkflow({
    slug: WF,
    name: "main",
    steps: [
      { id: "fetch", name: "fetch", maxRetries: 1 },
      { id: "parse", name: "parse", dependencies: ["fetch"] },
      { id: "store", name: "store", dependencies: ["parse"] },
    ],
  });

  const r1 = await runWithSteps(b, ["fetch", "parse", "store"], { runId: "run-failed" });
  tick(40);
  await b.startRun(WF, r1.runId, wfMeta);
  const [fetch1, parse1, store1] = r1.steps;
  let a = await claimAs(b, fetch1!, "w1", 4);
  tick(1500);
  await b.saveStepHeartbeat(WF, r1.runId, "fetch", "w1", a, { workerConcurrency: 4 });
  tick(700);
  await complete(b, fetch1!, a, { rows: 3 });
  tick(15);
  a = await claimAs(b, parse1!, "w2", 2);
  tick(300);
  await b.saveStepFailedAndScheduleRetry(
    WF,
    r1.runId,
    "parse",
    {
      name: "TimeoutError",
      message: "Timeout after 1234 ms",
      stack: "TimeoutError: Timeout after 1234 ms\n    at parse (/home/alice/app/parse.js:10:5)",
    },
    { duration: 300_000, attemptNumber: a, nextRetryAt: clock.nowUs() + 2_000_000, failureReason: "timeout" },
    { availableAt: clock.nowUs() + 2_000_000, nextAttemptNumber: a + 1, retryDelayMs: 2000, maxRetries: 3 },
  );
  tick(2600);
  a = await claimAs(b, parse1!, "w1", 4);
  tick(900);
  await complete(b, parse1!, a, "parsed");
  tick(25);
  await failTerminally(b, store1!, await claimAs(b, store1!, "w2", 2), "x is undefined");
  tick(5);
  await b.saveStepSkipped(WF, r1.runId, "cleanup", {
    skipType: "cascade",
    reason: "store failed",
    duration: 0,
    attemptNumber: 0,
    cascadedFrom: "store",
  });
  await b.saveWorkflowFailed(
    WF,
    r1.runId,
    { name: "StepError", message: "store failed" },
    { workflowAttemptNumber: 1, duration: 6_000_000, completedSteps: 2, failedStep: "store" },
    "step-failed",
  );

  tick(60_000);
  const r2 = await runWithSteps(b, ["fetch", "parse"], { runId: "run-reclaimed" });
  tick(10);
  await b.startRun(WF, r2.runId, wfMeta);
  await claimAs(b, r2.steps[0]!, "w3", 1);
  tick(120_000);
  await b.reclaimStaleSteps(60_000, "reaper-1");
  tick(50);
  await complete(b, r2.steps[0]!, await claimAs(b, r2.steps[0]!, "w1", 4), { rows: 9 });
  tick(20);
  a = await claimAs(b, r2.steps[1]!, "w2", 2);
  tick(450);
  await b.saveStepFailed(
    WF,
    r2.runId,
    "parse",
    {
      name: "TimeoutError",
      message: "Timeout after 999 ms",
      stack: "TimeoutError: Timeout after 999 ms\n    at parse (/home/bob/app/parse.js:12:7)",
    },
    { duration: 450_000, attemptNumber: a, terminal: true, failureReason: "timeout" },
  );
  await b.saveWorkflowFailed(
    WF,
    r2.runId,
    { message: "parse failed" },
    { workflowAttemptNumber: 1, duration: 171_000_000, completedSteps: 1, failedStep: "parse" },
    "step-failed",
  );

  tick(30_000);
  const r3 = await runWithSteps(b, ["only"], { runId: "run-completed", workflowSlug: WF_B });
  tick(200);
  await b.startRun(WF_B, r3.runId, wfMeta);
  a = await claimAs(b, r3.steps[0]!, "w2", 2);
  tick(3_000);
  await complete(b, r3.steps[0]!, a, [1, 2, 3], true);
  await b.saveWorkflowComplete(
    WF_B,
    r3.runId,
    { only: [1, 2, 3] },
    { workflowAttemptNumber: 1, timestamp: 0, duration: 3_200_000, totalSteps: 1 },
  );

  tick(1_000);
  const delayedRun = await submit(b, {
    workflowSlug: WF_B,
    runId: "run-delayed",
    availableAtUs: clock.nowUs() + 3_600_000_000,
  });
  const r5 = await runWithSteps(b, ["ready"], { runId: "run-live" });
  await schedule(b, WF, r5.runId, ["later"], { availableAt: clock.nowUs() + 600_000_000 });
  await schedule(b, WF, r5.runId, ["busy"]);
  await b.startRun(WF, r5.runId, wfMeta);
  tick(30);
  await claimAs(b, { workflowSlug: WF, runId: r5.runId, stepId: "busy" }, "w4", 8);
  tick(2_000);
  await b.saveStepHeartbeat(WF, r5.runId, "busy", "w4", 1, {
    workerConcurrency: 8,
    resourceSnapshot: { memoryBytes: 1_000_000 },
  });

  const r6 = await runWithSteps(b, ["s"], { runId: "run-cancelled" });
  await b.startRun(WF, r6.runId, wfMeta);
  await claimAs(b, r6.steps[0]!, "w5", 1);
  tick(500);
  await b.cancelRun(r6.runId, "user");

  tick(10_000);
  const child = await b.rerunFrom({ parentRunId: r1.runId, fromStepId: "store", runId: "run-rerun" });
  tick(1_000);
  return {
    failedRun: r1.runId,
    reclaimedRun: r2.runId,
    completedRun: r3.runId,
    delayedRun,
    liveRun: r5.runId,
    cancelledRun: r6.runId,
    rerunChild: child.runId,
  };
}

/** Every event the driver holds, read back through its own loadEvents (the reference's input). */
export async function allEvents(b: Backend): Promise<Event[]> {
  const runs = await b.listRuns();
  return (await Promise.all(runs.map((r) => b.loadEvents(r.workflowSlug, r.runId)))).flat();
}

/** The live state as the driver's own queries report it (the reference's input for queue depth). */
export async function liveState(b: Backend): Promise<LiveState> {
  const runs = (await b.listRuns()).filter((r) => r.status === "pending" || r.status === "running");
  const steps = (await Promise.all(runs.map((r) => b.loadRun(r.workflowSlug, r.runId)))).flat();
  return { runs, steps };
}
