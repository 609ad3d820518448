import { describe, expect, it } from "vitest";
import { projectRunState, projectStepState, projectStepStates, reduceRunState, reduceStepState } from "../src/index.js";
import { run, step, stepEv } from "./support/events.js";

describe("projectStepState", () => {
  it("walks pending → scheduled → running → completed, recording each status change", () => {
    const s = projectStepState([
      step.scheduled(100, 1, { priority: 5, availableAtUs: 150 }),
      step.started(200, 1, "w1", { dependencies: ["a"] }),
      step.completed(300, 1, { durationUs: 99 }),
    ]);
    expect(s).toMatchObject({
      status: "completed",
      attemptNumber: 1,
      priority: 5,
      availableAtUs: 150,
      claimedBy: "w1",
      startTimeUs: 200,
      endTimeUs: 300,
      durationUs: 99,
      dependencies: ["a"],
      output: '"ok"',
      createdAtUs: 100,
      updatedAtUs: 300,
    });
    expect(s?.stateChanges.map((c) => c.status)).toEqual(["scheduled", "running", "completed"]);
  });

  it("StepScheduled clears the claim, heartbeat and start time of the previous attempt", () => {
    const s = projectStepState([
      step.scheduled(1, 1),
      step.started(2, 1, "w1"),
      step.heartbeat(3, 1, "w1"),
      step.failed(4, 1, false, { nextRetryAtUs: 10 }),
      step.scheduled(4, 2, { availableAtUs: 10 }),
    ]);
    expect(s).toMatchObject({ status: "scheduled", attemptNumber: 2, availableAtUs: 10, scheduleReason: "retry" });
    expect(s?.claimedBy).toBeUndefined();
    expect(s?.lastHeartbeatUs).toBeUndefined();
    expect(s?.startTimeUs).toBeUndefined();
  });

  it("a non-terminal StepFailed keeps the status and records the error and next retry; a terminal one fails the step", () => {
    const running = [step.scheduled(1, 1), step.started(2, 1, "w1")];
    const retrying = projectStepState([...running, step.failed(5, 1, false, { nextRetryAtUs: 50 })]);
    expect(retrying).toMatchObject({
      status: "running",
      nextRetryAtUs: 50,
      error: { message: "boom 1" },
      failureReason: "execution-error",
      terminal: false,
    });
    const failed = projectStepState([...running, step.failed(5, 1, true)]);
    expect(failed).toMatchObject({
      status: "failed",
      terminal: true,
      endTimeUs: 5,
      failureReason: "exhausted-retries",
    });
    expect(failed?.stateChanges.at(-1)).toMatchObject({ status: "failed", message: "boom 1" });
  });

  it("ignores completions and failures of stale attempts and records them as stale", () => {
    const base = [
      step.scheduled(1, 1),
      step.started(2, 1, "w1"),
      step.reclaimed(10, 1, "w1"),
      step.scheduled(10, 2),
      step.started(11, 2, "w2"),
    ];
    const s = projectStepState([...base, step.completed(12, 1), step.failed(13, 1, true)]);
    expect(s).toMatchObject({ status: "running", attemptNumber: 2, claimedBy: "w2" });
    expect(s?.output).toBeUndefined();
    expect(s?.error).toBeUndefined();
    const stale = s?.stateChanges.filter((c) => c.stale) ?? [];
    expect(stale).toHaveLength(2);
    expect(stale[0]).toMatchObject({ status: "running", timestampUs: 12, stale: true });
    expect(stale[0]?.message).toContain("StepCompleted from stale attempt 1");
    expect(stale[1]?.message).toContain("StepFailed from stale attempt 1");
  });

  it("ignores zombie heartbeats (older attempt, other worker, or step not running)", () => {
    const base = [
      step.scheduled(1, 1),
      step.started(2, 1, "w1"),
      step.reclaimed(10, 1, "w1"),
      step.scheduled(10, 2),
      step.started(11, 2, "w2"),
      step.heartbeat(12, 2, "w2"),
    ];
    expect(projectStepState(base)?.lastHeartbeatUs).toBe(12);
    expect(projectStepState([...base, step.heartbeat(20, 1, "w1")])?.lastHeartbeatUs).toBe(12);
    expect(projectStepState([...base, step.heartbeat(20, 2, "w1")])?.lastHeartbeatUs).toBe(12);
    const done = [...base, step.completed(15, 2), step.heartbeat(20, 2, "w2")];
    expect(projectStepState(done)?.lastHeartbeatUs).toBe(12);
    expect(projectStepState(done)?.updatedAtUs).toBe(20);
  });

  it("StepReclaimed marks the step reclaimed without changing its status", () => {
    const s = projectStepState([step.scheduled(1, 1), step.started(2, 1, "w1"), step.reclaimed(10, 1, "w1")]);
    expect(s).toMatchObject({ status: "running", wasReclaimed: true, reclaimedFrom: "w1", reclaimedBy: "reaper" });
    expect(s?.stateChanges).toHaveLength(2);
  });

  it("StepSkipped skips; logs, retry notices and checkpoints change no status", () => {
    expect(
      projectStepState([step.scheduled(1, 1), step.skipped(2, { skipType: "cascade", cascadedFrom: "up" })]),
    ).toMatchObject({ status: "skipped", skipType: "cascade", cascadedFrom: "up", skipReason: "not needed" });
    const quiet = projectStepState([
      step.scheduled(1, 1),
      step.started(2, 1, "w1"),
      stepEv("LogEntry", 3, { stream: "stdout", message: "hi", attemptNumber: 1 }),
      stepEv("StepRetrying", 4, { attemptNumber: 1, nextAttempt: 2, error: { message: "x" } }),
      stepEv("StepCheckpoint", 5, { name: "c", sequenceNumber: 0, attemptNumber: 1, data: "1" }),
      stepEv("StepCheckpointFailed", 6, { name: "c", sequenceNumber: 1, attemptNumber: 1, error: { message: "x" } }),
    ]);
    expect(quiet?.status).toBe("running");
    expect(quiet?.stateChanges).toHaveLength(2);
    expect(quiet?.updatedAtUs).toBe(6);
  });

  it("is pure: reducing never mutates the previous state", () => {
    const s1 = reduceStepState(null, step.scheduled(1, 1));
    const snapshot = structuredClone(s1);
    reduceStepState(s1, step.started(2, 1, "w1"));
    expect(s1).toEqual(snapshot);
    expect(projectStepState([])).toBeNull();
  });

  it("projectStepStates groups a run's step events by step", () => {
    const states = projectStepStates([
      step.scheduled(1, 1),
      step.scheduled(1, 1, { stepId: "s2" }),
      step.started(2, 1, "w1"),
    ]);
    expect([...states.keys()]).toEqual(["s1", "s2"]);
    expect(states.get("s1")?.status).toBe("running");
    expect(states.get("s2")?.status).toBe("scheduled");
  });
});

describe("projectRunState", () => {
  it("the first RunSubmitted makes the run pending with its fields; a second one changes nothing", () => {
    const r = projectRunState([
      run.submitted(100, {
        availableAtUs: 150,
        priority: 3,
        input: "{}",
        tags: ["t"],
        metadata: { a: 1 },
        idempotencyKey: "k",
        timeoutUs: 9,
        hasInputSchema: true,
      }),
      run.submitted(200, { priority: 9, tags: ["other"] }),
    ]);
    expect(r).toMatchObject({
      status: "pending",
      createdAtUs: 100,
      availableAtUs: 150,
      priority: 3,
      input: "{}",
      tags: ["t"],
      metadata: { a: 1 },
      idempotencyKey: "k",
      timeoutUs: 9,
      hasInputSchema: true,
    });
    expect(r?.stateChanges).toHaveLength(1);
  });

  it("terminal statuses absorb later start, completion, failure and cancel events", () => {
    const done = [run.submitted(1), run.started(2), run.completed(3)];
    for (const later of [run.cancelled(4), run.failed(4), run.started(4), run.completed(5), run.retryStarted(6, 2)]) {
      const r = projectRunState([...done, later]);
      expect(r).toMatchObject({ status: "completed", endedAtUs: 3, workflowAttemptNumber: 1 });
      expect(r?.stateChanges.map((c) => c.status)).toEqual(["pending", "running", "completed"]);
    }
    expect(
      projectRunState([run.submitted(1), run.cancelled(2), run.completed(3), run.retryStarted(4, 2)]),
    ).toMatchObject({ status: "cancelled" });
    expect(projectRunState([run.submitted(1), run.started(2), run.failed(3), run.cancelled(4)])).toMatchObject({
      status: "failed",
      failureReason: "step-failed",
    });
  });

  it("WorkflowRetryStarted reopens a failed run as pending with the new attempt and clears the failure", () => {
    const r = projectRunState([run.submitted(1), run.started(2), run.failed(3), run.retryStarted(4, 2)]);
    expect(r).toMatchObject({ status: "pending", workflowAttemptNumber: 2 });
    expect(r?.error).toBeUndefined();
    expect(r?.failureReason).toBeUndefined();
    expect(r?.endedAtUs).toBeUndefined();
    expect(r?.stateChanges.at(-1)).toMatchObject({ status: "pending", message: "retry attempt 2" });
    expect(
      projectRunState([
        run.submitted(1),
        run.started(2),
        run.failed(3),
        run.retryStarted(4, 2),
        run.started(5, 2),
        run.completed(6),
      ]),
    ).toMatchObject({ status: "completed", workflowAttemptNumber: 2 });
  });

  it("is pure", () => {
    const r1 = reduceRunState(null, run.submitted(1));
    const snapshot = structuredClone(r1);
    reduceRunState(r1, run.started(2));
    expect(r1).toEqual(snapshot);
    expect(projectRunState([])).toBeNull();
  });
});
