import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { loadWorkflow, type LoadedWorkflow } from "@cairn/worker";
import { createTestEnv, type TestEnv } from "../src/index.js";

const WAITS = fileURLToPath(new URL("./wait-fixtures", import.meta.url));
const APPROVAL = fileURLToPath(new URL("../../../examples/workflows/approval", import.meta.url));
const shared = globalThis as unknown as { __cairnNapWork?: number; __cairnBatchChecks?: number };

describe("durable waits in the test kit", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
    shared.__cairnNapWork = 0;
    shared.__cairnBatchChecks = 0;
  });

  it("a 10-minute sleep ends when the clock moves, with no real waiting; earlier work is replayed, not redone", async () => {
    env = await createTestEnv({ workflowsDir: WAITS });
    const t0 = env.clock.nowMs();
    const runId = await env.submit("nap");
    // The first attempt waits; the run shows as waiting with the wake time.
    for (let i = 0; i < 200 && (await env.backend.listWaitingRuns()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const [waiting] = await env.backend.listWaitingRuns();
    expect(waiting?.step).toMatchObject({
      stepId: "nap",
      waiting: { kind: "sleep", name: "rest", untilUs: (t0 + 600_000) * 1000 },
    });
    await env.backend.resumeRun(runId, { patch: { note: "hi" } });
    env.clock.advance("10m");
    const run = await env.wait(runId);
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({ nap: { before: 1, work: 1, state: { note: "hi" } } });
    expect(run.steps.nap!.attempts.map((a) => a.outcome)).toEqual(["waiting", "completed"]);
    expect(env.clock.nowMs() - t0).toBeGreaterThanOrEqual(600_000);
  });

  it("poll calls check on its schedule until it returns a value; past its timeout it fails with PollTimeoutError", async () => {
    env = await createTestEnv({ workflowsDir: WAITS });
    const done = await env.run("batch", { readyAfter: 3, timeout: "1h" });
    expect(done.status).toBe("completed");
    expect(done.output).toEqual({ "await-job": { checks: 3 } });
    expect(done.steps["await-job"]!.attempts.map((a) => a.outcome)).toEqual(["waiting", "waiting", "completed"]);
    shared.__cairnBatchChecks = 0;
    const late = await env.run("batch", { readyAfter: 100, timeout: "3m" });
    expect(late.status).toBe("failed");
    expect(late.steps["await-job"]!.error).toMatchObject({ name: "PollTimeoutError" });
  });

  it("the approval example: a signal sent before the wait is delivered; with none, the timeout gives null", async () => {
    const approval = await loadWorkflow(APPROVAL, "approval");
    if ("problems" in approval) throw new Error(JSON.stringify(approval.problems));
    env = await createTestEnv({ workflows: [approval as LoadedWorkflow] });
    const approved = await env.submit("approval", { amount: 120, timeout: "2h" });
    await env.backend.signal(approved, "approval", { approved: true, by: "ann" });
    expect((await env.wait(approved)).output).toEqual({ settle: { paid: true, reason: "decided by ann" } });
    const silent = await env.run("approval", { amount: 5, timeout: "30m" });
    expect(silent.output).toEqual({ settle: { paid: false, reason: "no answer in time" } });
  });
});
