/**
 * Golden event logs: each test/fixtures/<name>.jsonl is replayed through the projections and compared with
 * <name>.expected.json, so any change to projection behaviour shows up as a diff to review.
 * Regenerate the expected files after an intended change with:
 *   UPDATE_GOLDEN=1 npx vitest run packages/backend-interface/test/golden.test.ts
 * and review the diff (`git diff packages/backend-interface/test/fixtures`) before committing.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseEvent, projectRunState, projectStepStates, type StepEvent, type WorkflowEvent } from "../src/index.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const logs = readdirSync(dir)
  .filter((f) => f.endsWith(".jsonl") && !f.startsWith("analytics"))
  .sort();

function replay(file: string) {
  const events = readFileSync(join(dir, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => parseEvent(JSON.parse(l)));
  const run = projectRunState(events.filter((e): e is WorkflowEvent => e.category === "workflow"));
  const steps = projectStepStates(events.filter((e): e is StepEvent => e.category === "step"));
  return { run, steps: Object.fromEntries([...steps].sort(([a], [b]) => (a < b ? -1 : 1))) };
}

describe("golden event logs", () => {
  it("has the three scenarios", () => {
    expect(logs).toEqual(["cancelled-with-zombie.jsonl", "completed-after-retry.jsonl", "failed-after-reclaim.jsonl"]);
  });

  for (const file of logs) {
    it(`${file} projects to ${file.replace(".jsonl", ".expected.json")}`, () => {
      const actual = replay(file);
      const expectedPath = join(dir, file.replace(".jsonl", ".expected.json"));
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
      expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, "utf8")));
    });
  }

  // What the expected files must say, checked independently so a careless regeneration cannot bless a regression.
  it("completed-after-retry: completed run, extract completed on attempt 2 by w2", () => {
    const { run, steps } = replay("completed-after-retry.jsonl");
    expect(run).toMatchObject({ status: "completed", tags: ["nightly"], totalSteps: 2 });
    expect(steps.extract).toMatchObject({
      status: "completed",
      attemptNumber: 2,
      claimedBy: "w2",
      output: '{"rows":3}',
    });
    expect(steps.extract?.error).toBeUndefined();
    expect(steps.extract?.stateChanges.map((c) => c.status)).toEqual([
      "scheduled",
      "running",
      "scheduled",
      "running",
      "completed",
    ]);
    expect(steps.load).toMatchObject({ status: "completed", dependencies: ["extract"] });
  });

  it("failed-after-reclaim: failed run stays failed after a late cancel; extract failed on attempt 2, reclaimed from w3", () => {
    const { run, steps } = replay("failed-after-reclaim.jsonl");
    expect(run).toMatchObject({ status: "failed", failureReason: "step-failed", failedStep: "extract" });
    expect(run?.cancelReason).toBeUndefined();
    expect(steps.extract).toMatchObject({
      status: "failed",
      attemptNumber: 2,
      terminal: true,
      wasReclaimed: true,
      reclaimedFrom: "w3",
      reclaimedBy: "reaper-1",
      lastHeartbeatUs: 1767225672000000,
    });
    expect(steps.load).toMatchObject({ status: "skipped", skipType: "cascade", cascadedFrom: "extract" });
  });

  it("cancelled-with-zombie: cancel absorbs the late completion; zombie heartbeat and stale completion ignored", () => {
    const { run, steps } = replay("cancelled-with-zombie.jsonl");
    expect(run).toMatchObject({
      status: "cancelled",
      cancelReason: "customer request",
      idempotencyKey: "order-17",
      inputValidation: { success: true },
    });
    expect(run?.output).toBeUndefined();
    const charge = steps.charge;
    expect(charge).toMatchObject({
      status: "running",
      attemptNumber: 2,
      claimedBy: "w1",
      lastHeartbeatUs: 1767225632000000,
      wasReclaimed: true,
      reclaimedFrom: "w2",
    });
    expect(charge?.output).toBeUndefined();
    expect(charge?.stateChanges.filter((c) => c.stale)).toEqual([
      {
        status: "running",
        timestampUs: 1767225640000000,
        message: "StepCompleted from stale attempt 1 ignored (current 2)",
        stale: true,
      },
    ]);
  });
});
