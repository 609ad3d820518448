import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "@cairn/testing";
import order from "./workflows/order/workflow.js";

let env: TestEnv;
beforeEach(async () => {
  env = await createTestEnv({
    workflowsDir: fileURLToPath(new URL("./workflows", import.meta.url)),
    worker: { env: { CURRENCY: "EUR" } },
    stallMs: 50,
  });
});
afterEach(() => env.close());

it("retries a failing charge with back-off (1 s, then 2 s) in milliseconds of real time", async () => {
  env.failStep(order, "charge", { times: 2, error: "card network down" });
  const started = performance.now();
  const run = await env.run(order, { orderId: "o-1", amount: 42 });
  expect(run.status).toBe("completed");
  expect(run.output).toEqual({ ship: { charged: "42 EUR" } });
  expect(run.steps.charge!.attempts.map((a) => a.outcome)).toEqual(["failed", "failed", "completed"]);
  const [first, second, third] = run.steps.charge!.attempts;
  expect(second!.startedAtUs - first!.endedAtUs!).toBeGreaterThanOrEqual(1_000_000);
  expect(third!.startedAtUs - second!.endedAtUs!).toBeGreaterThanOrEqual(2_000_000);
  expect(performance.now() - started).toBeLessThan(1000);
});

it("a run submitted for later sleeps on the test clock, not in real time", async () => {
  const submittedMs = env.clock.nowMs();
  const run = await env.run("order", { orderId: "o-2", amount: 5 }, { delay: "1h" });
  expect(run.status).toBe("completed");
  expect(run.steps.reserve!.attempts[0]!.startedAtUs / 1000 - submittedMs).toBeGreaterThanOrEqual(3_600_000);
});

it("the clock can also be moved by hand", async () => {
  const runId = await env.submit(order, { orderId: "o-3", amount: 7 }, { delay: "10m" });
  expect((await env.inspect(runId)).status).toBe("pending");
  env.clock.advance("10m");
  expect((await env.wait(runId)).status).toBe("completed");
});

it("a worker that crashes mid-charge: the step is reclaimed and runs again on a new worker", async () => {
  env.failStep(order, "charge", { crash: true });
  const run = await env.run(order, { orderId: "o-4", amount: 9 });
  expect(run.status).toBe("completed");
  const [crashed, retried] = run.steps.charge!.attempts;
  expect(crashed!.outcome).toBe("reclaimed");
  expect(retried!.outcome).toBe("completed");
  expect(retried!.workerId).not.toBe(crashed!.workerId);
});

it("a charge that never answers times out on every attempt and fails the run", async () => {
  const run = await env.run(order, { orderId: "o-5", amount: 1, hang: true });
  expect(run.status).toBe("failed");
  expect(run.failedStep).toBe("charge");
  expect(run.steps.charge!.attempts.map((a) => a.failureReason)).toEqual(["timeout", "timeout", "timeout"]);
  expect(run.steps.ship?.attempts ?? []).toEqual([]); // never ran
});
