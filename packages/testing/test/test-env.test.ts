import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { discoverWorkflows } from "@cairn/worker";
import { createTestEnv, type TestEnv } from "../src/index.js";
import gate from "./fixtures/gate/workflow.js";
import { clearGate, closeGate, completedRuns } from "./fixtures/gate/gate.js";

const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));
const ORDER = fileURLToPath(new URL("../../../docs/testing/workflows", import.meta.url));

describe("createTestEnv", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    clearGate();
    await env?.close();
    env = undefined;
  });

  it("takes loaded workflows and runs one given by its declaration", async () => {
    const { workflows } = await discoverWorkflows(FIXTURES);
    env = await createTestEnv({ workflows });
    const run = await env.run(gate);
    expect(run).toMatchObject({ status: "completed", output: { wait: "opened" }, workflowSlug: "gate" });
    expect(run.steps.wait!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "completed", output: "opened", workerId: env.worker.workerId }),
    ]);
  });

  it("a workflow's hooks have run when run returns, with the worker's services", async () => {
    let audits = 0;
    env = await createTestEnv({
      workflowsDir: FIXTURES,
      worker: { services: { audit: async () => ({ n: ++audits }) } },
    });
    const run = await env.run(gate);
    expect(completedRuns().filter((id) => id === run.runId)).toHaveLength(1);
    expect(env.events.filter((e) => e.type === "run:hook" && e.runId === run.runId)).toEqual([
      expect.objectContaining({ hook: "onComplete", ok: true }),
    ]);
    await env.run(gate);
    expect(audits).toBe(1);
  });

  it("says what to pass when given no workflows, and names unknown workflows and steps", async () => {
    await expect(createTestEnv({})).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/`workflows`.*`workflowsDir`/),
    });
    await expect(createTestEnv({ workflowsDir: "/nonexistent/cairn-workflows" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/did not load/),
    });
    env = await createTestEnv({ workflowsDir: FIXTURES });
    await expect(env.run("nope")).rejects.toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
    expect(() => env!.failStep(gate, "nope")).toThrow(/workflow gate has no step "nope"/);
  });

  it("the worker's heartbeats follow the test clock while a step runs", async () => {
    env = await createTestEnv({ workflowsDir: FIXTURES, worker: { heartbeatMs: 5000 } });
    const g = closeGate();
    const runId = await env.submit(gate);
    while ((await env.inspect(runId)).steps.wait?.status !== "running") await new Promise((r) => setTimeout(r, 2));
    env.clock.advance("20s");
    await new Promise((r) => setTimeout(r, 20));
    const beats = (await env.inspect(runId)).events.filter((e) => e.type === "StepHeartbeat");
    expect(beats.length).toBeGreaterThanOrEqual(1); // a beat in flight skips the next, so at most 4
    expect(beats.length).toBeLessThanOrEqual(4);
    g.open();
    expect((await env.wait(runId)).status).toBe("completed");
  });

  it("runs driven at once: one run's back-off does not move the clock under another run's running step", async () => {
    const gates = await discoverWorkflows(FIXTURES);
    const orders = await discoverWorkflows(ORDER);
    env = await createTestEnv({ workflows: [...gates.workflows, ...orders.workflows], stallMs: 2000 });
    const g = closeGate();
    const timed = await env.submit("timed");
    while ((await env.inspect(timed)).steps.wait?.status !== "running") await new Promise((r) => setTimeout(r, 2));
    env.failStep("order", "charge", { times: 2 }); // 1 s + 2 s of back-off: past the timed step's 2 s timeout
    const order = env.run("order", { orderId: "o", amount: 1 });
    setTimeout(() => g.open(), 300);
    expect((await env.wait(timed)).output).toEqual({ wait: "opened in time" });
    expect((await order).status).toBe("completed");
  });

  it("a run that cannot end fails with RunStuckError instead of hanging the test", async () => {
    env = await createTestEnv({ workflowsDir: FIXTURES, stallMs: 30 });
    closeGate(); // never opened; the step has no timeout
    await expect(env.run(gate)).rejects.toMatchObject({
      code: "RUN_STUCK",
      message: expect.stringMatching(/step wait ran 30 ms of real time/),
    });
  });

  it("crashWorker replaces the worker; a closed environment says so", async () => {
    env = await createTestEnv({ workflowsDir: ORDER });
    const before = env.worker.workerId;
    await env.crashWorker();
    expect(env.worker.workerId).not.toBe(before);
    expect((await env.run("order", { orderId: "o", amount: 1 })).status).toBe("completed");
    await env.close();
    await expect(env.run("order", { orderId: "o", amount: 1 })).rejects.toMatchObject({ code: "TEST_ENV_CLOSED" });
  });

  it("a fault with an error of its own, and a run timeout reached while a retry waits", async () => {
    env = await createTestEnv({ workflowsDir: ORDER });
    class CardDeclined extends Error {
      override name = "CardDeclined";
    }
    env.failStep("order", "charge", { times: 3, error: new CardDeclined("declined") });
    const failed = await env.run("order", { orderId: "o", amount: 1 });
    expect(failed).toMatchObject({ status: "failed", failedStep: "charge" });
    expect(failed.steps.charge!.attempts.map((a) => a.error?.name)).toEqual([
      "CardDeclined",
      "CardDeclined",
      "CardDeclined",
    ]);
    env.failStep("order", "charge", { times: 2 });
    const late = await env.run("order", { orderId: "o", amount: 1 }, { timeout: "1500ms" });
    expect(late).toMatchObject({ status: "failed", failureReason: "timeout" }); // the 2 s back-off ends past the deadline
  });
});
