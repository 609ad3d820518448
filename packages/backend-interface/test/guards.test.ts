import { describe, expect, it } from "vitest";
import { checkGuard, projectRunState, projectStepState, type RunState, type StepState } from "../src/index.js";
import { run, step } from "./support/events.js";

const pendingRun = projectRunState([run.submitted(100, { availableAtUs: 500 })]) as RunState;
const runningRun = projectRunState([run.submitted(100), run.started(101)]) as RunState;
const cancelledRun = projectRunState([run.submitted(100), run.started(101), run.cancelled(102)]) as RunState;
const scheduled = projectStepState([step.scheduled(100, 1, { availableAtUs: 200 })]) as StepState;
const running = projectStepState([step.scheduled(100, 1), step.started(150, 1, "w1")]) as StepState;
const beating = projectStepState([
  step.scheduled(100, 1),
  step.started(150, 1, "w1"),
  step.heartbeat(300, 1, "w1"),
]) as StepState;
const failedNonTerminal = projectStepState([
  step.scheduled(100, 1),
  step.started(150, 1, "w1"),
  step.failed(160, 1, false),
]) as StepState;
const completed = projectStepState([
  step.scheduled(100, 1),
  step.started(150, 1, "w1"),
  step.completed(160, 1),
]) as StepState;

const trackedRun = { ...runningRun, tracked: true } as RunState;
const trackedEnded = { ...cancelledRun, tracked: true } as RunState;

describe("checkGuard", () => {
  it("tracked runs: their steps are never claimed or reclaimed; tracked-step starts a never-started step of an open tracked run", () => {
    expect(checkGuard({ kind: "claim", nowUs: 200 }, trackedRun, scheduled)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "stale", attemptNumber: 1, heartbeatBeforeUs: 10_000 }, runningRun, running)).toEqual({
      ok: true,
    });
    expect(
      checkGuard({ kind: "stale", attemptNumber: 1, heartbeatBeforeUs: 10_000 }, trackedRun, running),
    ).toMatchObject({ ok: false, reason: "not-claimable" });
    expect(checkGuard({ kind: "schedule", attemptNumber: 1 }, trackedRun, null)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "tracked-step" }, trackedRun, null)).toEqual({ ok: true });
    expect(checkGuard({ kind: "tracked-step" }, trackedRun, running)).toMatchObject({
      ok: false,
      reason: "already-done",
    });
    expect(checkGuard({ kind: "tracked-step" }, runningRun, null)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "tracked-step" }, trackedEnded, null)).toMatchObject({
      ok: false,
      reason: "run-terminal",
    });
    expect(checkGuard({ kind: "tracked-step" }, null, null)).toMatchObject({ ok: false, reason: "run-missing" });
  });

  it("none always holds", () => {
    expect(checkGuard({ kind: "none" }, null, null)).toEqual({ ok: true });
  });

  it("claim: scheduled, available, in an existing non-terminal run, optionally of one attempt", () => {
    expect(checkGuard({ kind: "claim", nowUs: 200 }, runningRun, scheduled)).toEqual({ ok: true });
    expect(checkGuard({ kind: "claim", nowUs: 199 }, runningRun, scheduled)).toMatchObject({
      ok: false,
      reason: "not-claimable",
      stepStatus: "scheduled",
    });
    expect(checkGuard({ kind: "claim", nowUs: 200 }, null, scheduled)).toMatchObject({
      ok: false,
      reason: "run-missing",
    });
    expect(checkGuard({ kind: "claim", nowUs: 200 }, cancelledRun, scheduled)).toMatchObject({
      ok: false,
      reason: "run-terminal",
      runStatus: "cancelled",
    });
    expect(checkGuard({ kind: "claim", nowUs: 999 }, runningRun, running)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "claim", nowUs: 999 }, runningRun, null)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "claim", nowUs: 999, attemptNumber: 2 }, runningRun, scheduled)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
  });

  it("attempt (fencing): only the running attempt, of the given worker, optionally not in a terminal run", () => {
    expect(checkGuard({ kind: "attempt", attemptNumber: 1, workerId: "w1" }, runningRun, running)).toEqual({
      ok: true,
    });
    expect(checkGuard({ kind: "attempt", attemptNumber: 2 }, runningRun, running)).toMatchObject({
      ok: false,
      reason: "stale-attempt",
      stepAttempt: 1,
    });
    expect(checkGuard({ kind: "attempt", attemptNumber: 1, workerId: "w2" }, runningRun, running)).toMatchObject({
      ok: false,
      reason: "stale-attempt",
    });
    expect(checkGuard({ kind: "attempt", attemptNumber: 1 }, runningRun, completed)).toMatchObject({
      ok: false,
      reason: "stale-attempt",
      stepStatus: "completed",
    });
    expect(
      checkGuard({ kind: "attempt", attemptNumber: 1, rejectIfRunTerminal: true }, cancelledRun, running),
    ).toMatchObject({ ok: false, reason: "run-terminal" });
    expect(checkGuard({ kind: "attempt", attemptNumber: 1 }, cancelledRun, running)).toEqual({ ok: true });
  });

  it("stale: the running attempt whose last heartbeat (or start) is before the cutoff, in a live run", () => {
    expect(checkGuard({ kind: "stale", attemptNumber: 1, heartbeatBeforeUs: 151 }, runningRun, running)).toEqual({
      ok: true,
    });
    expect(checkGuard({ kind: "stale", attemptNumber: 1, heartbeatBeforeUs: 150 }, runningRun, running)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "stale", attemptNumber: 1, heartbeatBeforeUs: 299 }, runningRun, beating)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "stale", attemptNumber: 1, heartbeatBeforeUs: 301 }, runningRun, beating)).toEqual({
      ok: true,
    });
    expect(checkGuard({ kind: "stale", attemptNumber: 2, heartbeatBeforeUs: 999 }, runningRun, running)).toMatchObject({
      ok: false,
      reason: "stale-attempt",
    });
    expect(
      checkGuard({ kind: "stale", attemptNumber: 1, heartbeatBeforeUs: 999 }, cancelledRun, running),
    ).toMatchObject({ ok: false, reason: "run-terminal" });
  });

  it("schedule: attempt 1 only from nothing/pending; attempt n only after n-1 ended without a result", () => {
    expect(checkGuard({ kind: "schedule", attemptNumber: 1 }, runningRun, null)).toEqual({ ok: true });
    expect(checkGuard({ kind: "schedule", attemptNumber: 1 }, runningRun, scheduled)).toMatchObject({
      ok: false,
      reason: "already-done",
    });
    expect(checkGuard({ kind: "schedule", attemptNumber: 2 }, runningRun, failedNonTerminal)).toEqual({ ok: true });
    expect(checkGuard({ kind: "schedule", attemptNumber: 2 }, runningRun, completed)).toMatchObject({
      ok: false,
      reason: "already-done",
    });
    expect(checkGuard({ kind: "schedule", attemptNumber: 2 }, runningRun, scheduled)).toMatchObject({
      ok: false,
      reason: "already-done",
    });
    expect(checkGuard({ kind: "schedule", attemptNumber: 3 }, runningRun, failedNonTerminal)).toMatchObject({
      ok: false,
      reason: "already-done",
    });
    expect(checkGuard({ kind: "schedule", attemptNumber: 1 }, cancelledRun, null)).toMatchObject({
      ok: false,
      reason: "run-terminal",
    });
  });

  it("step-open: not ended; a running step only by its own attempt", () => {
    expect(checkGuard({ kind: "step-open" }, runningRun, null)).toEqual({ ok: true });
    expect(checkGuard({ kind: "step-open" }, runningRun, completed)).toMatchObject({
      ok: false,
      reason: "already-done",
    });
    expect(checkGuard({ kind: "step-open", attemptNumber: 2 }, runningRun, running)).toMatchObject({
      ok: false,
      reason: "stale-attempt",
    });
    expect(checkGuard({ kind: "step-open", attemptNumber: 1 }, runningRun, running)).toEqual({ ok: true });
  });

  it("run-start and run-open", () => {
    expect(checkGuard({ kind: "run-start", nowUs: 500 }, pendingRun, null)).toEqual({ ok: true });
    expect(checkGuard({ kind: "run-start", nowUs: 499 }, pendingRun, null)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "run-start", nowUs: 999 }, runningRun, null)).toMatchObject({
      ok: false,
      reason: "not-claimable",
    });
    expect(checkGuard({ kind: "run-start", nowUs: 999 }, null, null)).toMatchObject({
      ok: false,
      reason: "run-missing",
    });
    expect(checkGuard({ kind: "run-open" }, runningRun, null)).toEqual({ ok: true });
    expect(checkGuard({ kind: "run-open" }, cancelledRun, null)).toMatchObject({ ok: false, reason: "run-terminal" });
    expect(checkGuard({ kind: "run-open" }, null, null)).toMatchObject({ ok: false, reason: "run-missing" });
  });
});
