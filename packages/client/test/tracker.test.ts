import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "@cairn/worker";
import type { Backend, StepRef } from "@cairn/backend-interface";
import { createClient, createTracker, type CairnClient, type Tracker } from "../src/index.js";

const CAIRN_BIN = fileURLToPath(new URL("../../worker/bin/cairn.js", import.meta.url));
const run = promisify(execFile);

/** `cairn <args>` as a real process (the TypeScript sources, no build). */
async function cairn(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CAIRN_BIN, ...args], { timeout: 30_000 });
  return stdout;
}

describe("createTracker on a real SQLite file", () => {
  let dir = "";
  let url = "";
  let tracker: Tracker;
  let client: CairnClient;
  let backend: Backend;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-tracker-"));
    url = `sqlite:${join(dir, "store.db")}`;
    client = createClient({ backend: url });
    backend = await client.backend();
    tracker = createTracker({ backend, trackerId: "tracker:test" });
  });
  afterAll(async () => {
    await tracker?.close();
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("executeRun with a successful step: the run completes with its output, calls (with usage), links and counters stored", async () => {
    const { runId, output } = await tracker.executeRun(
      { runType: "charges-sync", trigger: "webhook", input: { page: 1 } },
      async (r) => {
        const charges = await r.step("fetch", async (step) => {
          const page = await step.call({ tool: "stripe_api", operation: "GET /charges" }, async () => ({
            data: [{ id: "ch_1" }, { id: "ch_2" }],
          }));
          await step.call(
            {
              tool: "openai",
              operation: "chat.completions",
              usage: { model: "gpt-4o", inputTokens: 120, outputTokens: 30, costUsd: 0.0015 },
            },
            async () => "summary",
          );
          step.link({ linkType: "output", entityType: "charge", entityId: "ch_1" });
          step.increment({ fetched: page.data.length });
          // Two reports before the first save ran: the latest wins, one progress line is stored.
          step.progress({ itemsTotal: 2, itemsProcessed: 1, itemsSucceeded: 1 }, "page 1");
          step.progress({ itemsTotal: 2, itemsProcessed: 2, itemsSucceeded: 2 }, "page 1");
          expect(() => step.progress({ itemsProcessed: -1 })).toThrow(
            expect.objectContaining({ code: "INVALID_ARGUMENT" }),
          );
          return page.data.length;
        });
        return { charges };
      },
    );
    expect(output).toEqual({ charges: 2 });
    const got = await client.get(runId);
    expect(got).toMatchObject({
      status: "completed",
      tracked: true,
      runType: "charges-sync",
      trigger: "webhook",
      workflowSlug: "charges-sync",
      input: { page: 1 },
      output: { charges: 2 },
      counters: { fetched: 2 },
      totalSteps: 1,
    });
    const calls = await client.calls(runId, "fetch");
    expect(calls.map((c) => [c.tool, c.operation, c.outcome, c.attemptNumber])).toEqual([
      ["stripe_api", "GET /charges", "ok", 1],
      ["openai", "chat.completions", "ok", 1],
    ]);
    expect(calls[0]?.outputBytes).toBeGreaterThan(0);
    expect((await client.usage(runId)).totals).toMatchObject({ inputTokens: 120, outputTokens: 30 });
    expect((await client.links(runId, "fetch")).map((l) => l.entityId)).toEqual(["ch_1"]);
    const [fetched] = await client.steps(runId);
    expect(fetched).toMatchObject({
      stepId: "fetch",
      status: "completed",
      claimedBy: "tracker:test",
      progress: { fraction: 1, message: "page 1", items: { total: 2, processed: 2, succeeded: 2 }, attemptNumber: 1 },
    });
    const types = (await backend.loadEvents("charges-sync", runId)).map((e) => e.type);
    expect(types).toEqual([
      "RunSubmitted",
      "WorkflowStarted",
      "StepStarted",
      "LogEntry",
      "StepCall",
      "StepCall",
      "StepLinked",
      "RunCountersIncremented",
      "StepCompleted",
      "WorkflowCompleted",
    ]);
    // The call analytics count the tracked run's calls like a worker's.
    const analytics = await backend.getCallAnalytics({ workflowSlug: "charges-sync" });
    expect(analytics.calls.find((c) => c.tool === "stripe_api")).toMatchObject({ count: 1, errorCount: 0 });
  });

  it("executeRun with a failing step: the step and the run fail, the error fingerprinted, the failed call recorded, the error rethrown", async () => {
    let runId = "";
    const boom = new TypeError("upstream said 503");
    await expect(
      tracker.executeRun({ workflowSlug: "nightly-import", trigger: "cron" }, async (r) => {
        runId = r.runId;
        await r.step("load", async () => "ok");
        await r.step("write", async (step) =>
          step.call({ tool: "postgres", operation: "INSERT rows" }, async () => {
            throw boom;
          }),
        );
      }),
    ).rejects.toBe(boom);
    const got = await client.get(runId);
    expect(got).toMatchObject({
      status: "failed",
      tracked: true,
      trigger: "cron",
      failedStep: "write",
      failureReason: "step-failed",
      completedSteps: 1,
    });
    expect(got?.error?.message).toBe("step write failed: upstream said 503");
    const failed = (await backend.loadEvents("nightly-import", runId, { category: "step" })).find(
      (e) => e.type === "StepFailed",
    );
    expect(failed).toMatchObject({
      stepId: "write",
      terminal: true,
      failureReason: "execution-error",
      error: { name: "TypeError", message: "upstream said 503" },
    });
    expect(failed?.type === "StepFailed" && failed.errorFingerprints.stackNormalizedHash).toMatch(/\w+/);
    const [call] = await client.calls(runId, "write");
    expect(call).toMatchObject({ tool: "postgres", outcome: "error", error: { message: "upstream said 503" } });
    expect(call?.errorFingerprints?.messageHash).toBe(
      failed?.type === "StepFailed" ? failed.errorFingerprints.messageHash : "missing",
    );
  });

  it("the manual lifecycle: startRun, startStep, finishStep and finishRun with outputs or errors; bad input is a typed error that writes nothing", async () => {
    const r = await tracker.startRun({ workflowSlug: "api-request", runType: "checkout", trigger: "api" });
    const s1 = await tracker.startStep(r, "validate");
    await tracker.finishStep(s1, { output: { valid: true } });
    const s2 = await tracker.startStep(r, "charge");
    await tracker.finishStep(s2, { error: new Error("card declined") });
    expect((await client.get(r.runId))?.status).toBe("running");
    await tracker.finishRun(r, { error: new Error("checkout failed") });
    expect(await client.get(r.runId)).toMatchObject({
      status: "failed",
      failedStep: "charge",
      error: { message: "step charge failed: checkout failed" },
    });
    await expect(tracker.finishStep(s2, { output: 1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });

    const before = (await client.list({ limit: 1000 })).length;
    await expect(tracker.startRun({ trigger: "api" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(tracker.startRun({ workflowSlug: "x", trigger: "not valid!" })).rejects.toMatchObject({
      code: "INVALID_EVENT",
    });
    const ok = await tracker.startRun({ workflowSlug: "bad-calls" });
    const step = await tracker.startStep(ok, "s");
    await expect(step.call({ tool: "", operation: "x" }, async () => 1)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(() => step.increment({ n: Number.NaN })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => step.link({ linkType: "output", entityType: "charge", entityId: "" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    await tracker.finishStep(step, { output: null });
    await tracker.finishRun(ok, { output: "done" });
    expect(await client.calls(ok.runId)).toEqual([]);
    expect((await client.get(ok.runId))?.counters).toBeUndefined();
    expect((await client.list({ limit: 1000 })).length).toBe(before + 1);
  });

  it("a real worker's maintenance reclaims a dead worker's stale step but never the tracked step running meanwhile", async () => {
    await backend.registerWorkflow({ slug: "manual-wf", name: "manual-wf", steps: [] });
    const { runId: deadRun } = await backend.submitRun({ workflowSlug: "manual-wf" });
    await backend.scheduleStep("manual-wf", deadRun, "s", {
      availableAt: backend.clock.nowUs(),
      reason: "initial",
      attemptNumber: 1,
    });
    expect(
      await backend.claimScheduledStep("manual-wf", deadRun, "s", "w-dead", {
        dependencies: [],
        timestamp: backend.clock.nowUs(),
        attemptNumber: 0,
      }),
    ).not.toBeNull();
    const reclaimed: StepRef[] = [];
    let sawReclaim!: () => void;
    const reclaimSeen = new Promise<void>((resolve) => (sawReclaim = resolve));
    const worker: WorkerHandle = await startWorker({
      backend,
      workflows: [],
      register: false,
      pollMs: 20,
      heartbeatMs: 50,
      staleMs: 200,
      maintenanceMs: 50,
      onEvent: (e) => {
        if (e.type === "steps:reclaimed") {
          reclaimed.push(...e.steps);
          if (e.steps.some((s) => s.runId === deadRun)) sawReclaim();
        }
      },
    });
    let trackedRun = "";
    try {
      await tracker.executeRun({ workflowSlug: "long-script", trigger: "script" }, async (r) => {
        trackedRun = r.runId;
        await r.step("slow", async () => {
          await reclaimSeen; // the pass that reclaimed the dead worker's step ran while this step was running, long past staleMs
          await new Promise((resolve) => setTimeout(resolve, 600)); // and several passes more
        });
      });
    } finally {
      await worker.stop();
    }
    expect(reclaimed.map((s) => s.runId)).toContain(deadRun);
    expect(reclaimed.map((s) => s.runId)).not.toContain(trackedRun);
    const events = await backend.loadEvents("long-script", trackedRun);
    expect(events.filter((e) => e.type === "StepReclaimed")).toEqual([]);
    expect(await client.get(trackedRun)).toMatchObject({ status: "completed", tracked: true });
  });

  it("step.step records nested children with the same events as ctx.step: calls, links and counts belong to the child; bad names record nothing", async () => {
    const { runId } = await tracker.executeRun({ runType: "nested-sync" }, (r) =>
      r.step("sync", async (step) => {
        expect(step.childId).toBeUndefined();
        await step.step("fetch", async (fetch) => {
          expect(fetch.childId).toBe("fetch");
          await fetch.call({ tool: "api", operation: "GET /pages" }, async () => [1, 2]);
          fetch.increment({ fetched: 2 });
          await fetch.step("parse", async (parse) => {
            parse.link({ linkType: "output", entityType: "page", entityId: "p1" });
            return parse.call({ tool: "parser", operation: "parse" }, async () => "ok");
          });
        });
        await expect(step.step("fetch", async () => 1)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        for (const name of ["", "a/b", "x".repeat(201), 7])
          await expect(step.step(name as string, async () => 1)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(
          step.step("store", async () => {
            throw new Error("disk full");
          }),
        ).rejects.toThrow("disk full");
        step.increment({ fetched: 1 });
        return "done";
      }),
    );
    const children = await client.children(runId, "sync");
    expect(children.map((c) => [c.childId, c.parentChildId, c.attemptNumber, c.status, c.output])).toEqual([
      ["fetch/parse", "fetch", 1, "ok", '"ok"'],
      ["fetch", undefined, 1, "ok", "null"],
      ["store", undefined, 1, "error", undefined],
    ]);
    expect(children[2]!.error).toMatchObject({ message: "disk full" });
    expect((await client.calls(runId, "sync")).map((c) => [c.operation, c.childId])).toEqual([
      ["GET /pages", "fetch"],
      ["parse", "fetch/parse"],
    ]);
    expect((await client.links(runId, "sync")).map((l) => l.childId)).toEqual(["fetch/parse"]);
    expect((await client.get(runId))?.counters).toEqual({ fetched: 3 });
    const shown = await cairn(["run", runId, "--backend", url]);
    expect(shown).toMatch(
      /└ fetch\s+ok\s+#1.*1 call\n\s+└ parse\s+ok\s+#1.*1 call\n\s+└ store\s+error\s+#1.*Error: disk full/,
    );
  });

  it("tracked runs appear in `cairn runs --json` and `cairn run` (the real CLI)", async () => {
    const { runId } = await tracker.executeRun({ runType: "cli-visible", trigger: "api" }, async (r) =>
      r.step("only", async (s) => s.call({ tool: "http", operation: "GET /" }, async () => 200)),
    );
    const runs = JSON.parse(await cairn(["runs", "--json", "--backend", url])) as Array<{
      runId: string;
      tracked?: boolean;
      trigger?: string;
      runType?: string;
    }>;
    expect(runs.find((r) => r.runId === runId)).toMatchObject({
      tracked: true,
      trigger: "api",
      runType: "cli-visible",
    });
    const view = await cairn(["run", runId, "--backend", url]);
    expect(view).toContain("type cli-visible");
    expect(view).toContain("trigger api");
    expect(view).toContain("tracked");
    expect(view).toContain("GET /");
  });

  it("`cairn submit --run-type --trigger` stores both on a worker run; a bad trigger is refused and submits nothing", async () => {
    await backend.registerWorkflow({ slug: "cli-submit", name: "cli-submit", steps: [] });
    const { runId } = JSON.parse(
      await cairn([
        "submit",
        "cli-submit",
        "--run-type",
        "nightly-sync",
        "--trigger",
        "cron",
        "--json",
        "--backend",
        url,
      ]),
    ) as { runId: string };
    expect(await client.get(runId)).toMatchObject({ runType: "nightly-sync", trigger: "cron" });
    expect((await client.get(runId))?.tracked).toBeUndefined();
    const bad = await cairn(["submit", "cli-submit", "--trigger", "not valid", "--backend", url]).then(
      () => null,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(bad?.code).not.toBe(0);
    expect(bad?.stderr).toMatch(/trigger/);
    expect((await client.list({ workflow: "cli-submit" })).map((r) => r.runId)).toEqual([runId]);
  });
});
