import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "@cairn/worker";
import { createClient, type CairnClient } from "../src/index.js";
import helloWorkflow from "../../../examples/workflows/hello/workflow.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows/", import.meta.url));

describe("@cairn/client on a real SQLite file, with a worker running the example workflows", () => {
  let dir = "";
  let client: CairnClient;
  let worker: WorkerHandle;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-client-"));
    client = createClient({ backend: "sqlite:./store.db", cwd: dir, pollMs: 20 });
    worker = await startWorker({ backend: await client.backend(), workflowsDir: EXAMPLES, pollMs: 20 });
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("submits by declaration (slug found by its display name), waits, and returns the output decoded", async () => {
    const { runId, isNew } = await client.submit(helloWorkflow, { name: "Ada" });
    expect(isNew).toBe(true);
    const updates: string[] = [];
    const run = await client.wait(runId, { onUpdate: (r) => updates.push(r.status) });
    expect(run.status).toBe("completed");
    expect(run.workflowSlug).toBe("hello");
    expect(run.output).toEqual({ greet: { greeting: "Hello, Ada.", length: 11 } });
    expect(run.input).toEqual({ name: "Ada" });
    expect(updates.at(-1)).toBe("completed");
    expect((await client.get(runId))?.output).toEqual(run.output);
    expect(await client.get("run_doesnotexist")).toBeNull();
    expect((await client.list({ workflow: helloWorkflow })).map((r) => r.runId)).toContain(runId);
  });

  it("follows the event feed while the worker runs a workflow: every event of the run, in its order, and readFeed agrees", async () => {
    const start = (await client.readFeed({ limit: 10_000 })).cursor;
    const all: Array<{ runId: string; eventId: string }> = [];
    const sub = await client.subscribeFeed({
      from: start,
      pollIntervalMs: 20,
      onEvents: (page) => void all.push(...page.map((e) => e.event)),
    });
    const { runId } = await client.submit(helloWorkflow, { name: "Feed" });
    await client.wait(runId);
    const events = await (await client.backend()).loadEvents("hello", runId);
    const end = Date.now() + 10_000;
    const ofRun = () => all.filter((e) => e.runId === runId).map((e) => e.eventId);
    while (ofRun().length < events.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    await sub.stop();
    expect(ofRun()).toEqual(events.map((e) => e.eventId));
    const page = await client.readFeed({ after: start, types: ["WorkflowCompleted"] });
    expect(page.entries.map((e) => e.event.runId)).toEqual([runId]);
  });

  it("an idempotency key returns the existing run; a slug works as well as a declaration", async () => {
    const first = await client.submit("hello", { name: "Bo" }, { idempotencyKey: "bo-1", tags: ["t"] });
    const again = await client.submit(helloWorkflow, { name: "Bo" }, { idempotencyKey: "bo-1" });
    expect(again).toEqual({ runId: first.runId, isNew: false });
    expect((await client.wait(first)).output).toEqual({ greet: { greeting: "Hello, Bo.", length: 10 } });
    expect((await client.list({ tags: ["t"] })).map((r) => r.runId)).toEqual([first.runId]);
  });

  it("emit starts the workflows listening to the event, once per event id; a payload that is not JSON writes nothing", async () => {
    const first = await client.emit("order.created", { orderId: 5, total: 1 }, { id: "order-5" });
    expect(first).toMatchObject({ eventId: "order-5", runs: [{ workflowSlug: "order-created", isNew: true }] });
    const again = await client.emit("order.created", { orderId: 5, total: 1 }, { id: "order-5" });
    expect(again.runs).toEqual([{ ...first.runs[0], isNew: false }]);
    expect((await client.wait(first.runs[0]!.runId)).output).toEqual({
      confirm: { orderId: 5, reservation: "res-5", confirmed: true },
    });
    await expect(client.emit("order.created", { orderId: 6n })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((await client.list({ workflow: "order-created" })).length).toBe(1);
    expect((await client.schedules()).map((s) => s.workflowSlug)).toEqual(["nightly-report"]);
  });

  it("submitMany writes the good items and reports each bad one as its own error", async () => {
    const outcomes = await client.submitMany([
      { workflow: helloWorkflow, input: { name: "Cy" } },
      { workflow: "hello", input: { name: "" } },
      { workflow: "no-such-workflow", input: {} },
      { workflow: { name: "No Such Name" } },
      { workflow: "hello", input: { name: "Di", excited: true } },
    ]);
    expect(outcomes.map((o) => (o.ok ? "ok" : o.error.code))).toEqual([
      "ok",
      "INVALID_INPUT",
      "WORKFLOW_NOT_FOUND",
      "WORKFLOW_NOT_FOUND",
      "ok",
    ]);
    const last = outcomes[4]!;
    if (!last.ok) throw new Error("expected a run");
    expect((await client.wait(last.runId)).output).toEqual({ greet: { greeting: "Hello, Di!", length: 10 } });
  });

  it("cancels a run that has not started, with its reason", async () => {
    const { runId } = await client.submit(
      helloWorkflow,
      { name: "Ed" },
      { availableAt: new Date(Date.now() + 3_600_000) },
    );
    const run = await client.cancel(runId, "not today");
    expect(run.status).toBe("cancelled");
    expect(run.cancelReason).toBe("not today");
    expect((await client.wait(runId)).status).toBe("cancelled");
  });

  it("reruns from a step with a new input, keeping nothing after it", async () => {
    const { runId } = await client.submit(helloWorkflow, { name: "Flo" });
    await client.wait(runId);
    const rerun = await client.rerun(runId, { from: "compose", input: { name: "Gus" } });
    expect(rerun.rerunStepIds.sort()).toEqual(["compose", "greet"]);
    const run = await client.wait(rerun.runId);
    expect(run.parentRunId).toBe(runId);
    expect(run.output).toEqual({ greet: { greeting: "Hello, Gus.", length: 11 } });
  });

  it("wait returns the current view when its signal aborts first", async () => {
    const { runId } = await client.submit(
      helloWorkflow,
      { name: "Hal" },
      { availableAt: new Date(Date.now() + 3_600_000) },
    );
    const run = await client.wait(runId, { signal: AbortSignal.timeout(100) });
    expect(run.status).toBe("pending");
    await client.cancel(runId);
  });
});

describe("@cairn/client errors", () => {
  it("a URL it cannot parse fails each call with a ConfigError that says what to use", async () => {
    const client = createClient({ backend: "mysql://nope" });
    await expect(client.get("run_x")).rejects.toMatchObject({
      code: "CONFIG_ERROR",
      message: expect.stringMatching(/Unknown backend URL/),
    });
    await expect(client.list()).rejects.toMatchObject({ code: "CONFIG_ERROR" });
    await client.close();
  });

  it("a backend that failed to open is opened again on the next call", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-client-reopen-"));
    try {
      await writeFile(join(dir, "sub"), "a file where the store's directory should be");
      const client = createClient({ backend: `sqlite:${join(dir, "sub", "store.db")}` });
      await expect(client.list()).rejects.toThrow();
      await rm(join(dir, "sub"));
      expect(await client.list()).toEqual([]);
      await client.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
