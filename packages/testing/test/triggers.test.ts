/** The example workflows of triggers and schedules under the test kit: emit, and schedule ticks the worker's maintenance starts on the TestClock. */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { discoverWorkflows } from "@cairn/worker";
import { createTestEnv, type TestEnv } from "../src/index.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows/", import.meta.url));

async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the example workflows run from emit and from schedule ticks (test kit clock)", () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("emit starts order-created with the payload; the worker's maintenance starts nightly-report at its tick, on the TestClock", async () => {
    const { workflows } = await discoverWorkflows(EXAMPLES);
    env = await createTestEnv({
      workflows: workflows.filter((w) => w.slug === "order-created" || w.slug === "nightly-report"),
      startAt: new Date("2026-01-01T00:00:00Z"),
    });
    const {
      runs: [started],
    } = await env.backend.emit("order.created", { orderId: 42, total: 19.5 }, { id: "order-42" });
    const done = await env.wait(started!.runId);
    expect(done.status).toBe("completed");
    expect(done.output).toEqual({ confirm: { orderId: 42, reservation: "res-42", confirmed: true } });

    // First sight at 00:00Z starts nothing (no backfill): the first run is the next tick, 05:00Z (06:00 in Paris).
    env.clock.advance("10s");
    await until("the schedule's first sight", async () => (await env!.backend.listSchedules())[0]?.lastTickUs !== null);
    expect(await env.backend.listRuns({ workflowSlug: "nightly-report" })).toEqual([]);
    env.clock.setUs(Date.parse("2026-01-01T05:00:03Z") * 1000);
    env.clock.advance("5s");
    const [run] = await until("the 06:00 Paris tick's run", async () => {
      const runs = await env!.backend.listRuns({ workflowSlug: "nightly-report" });
      return runs.length ? runs : undefined;
    });
    const ended = await env.wait(run!.runId);
    expect(ended.status).toBe("completed");
    expect(ended.output).toEqual({ summarise: { day: "2025-12-31", report: "report-2025-12-31" } });
    expect(env.events.filter((e) => e.type === "run:scheduled")).toMatchObject([
      { workflowSlug: "nightly-report", scheduledAt: "2026-01-01T05:00:00.000Z" },
    ]);
    env.clock.advance("1h");
    await new Promise((r) => setTimeout(r, 200));
    expect(await env.backend.listRuns({ workflowSlug: "nightly-report" })).toHaveLength(1);
  });
});
