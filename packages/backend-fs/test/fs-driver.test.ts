import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "@cairn/backend-interface";
import { FileSystemBackend, FsLayout, openBackend } from "../src/index.js";
import { freshStore, openFs } from "./fs-test-utils.js";
import { registerManual } from "../../../test-support/register.js";

const WF = "wf";
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function store(
  options: Parameters<typeof freshStore>[0] = {},
): Promise<{ dir: string; backend: FileSystemBackend }> {
  const s = await freshStore(options);
  cleanups.push(s.cleanup);
  await registerManual(s.backend, WF);
  return s;
}

const meta = { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false };
const claimMeta = { dependencies: [], timestamp: 0, attemptNumber: 0 };

describe("filesystem driver: guarded writes", () => {
  it("checks guards against what other instances appended (stale caches never decide)", async () => {
    const { dir, backend: a } = await store();
    const b = await openFs(dir, { durability: "none" });
    const { runId } = await a.submitRun({ workflowSlug: WF });
    await a.startRun(WF, runId, meta);
    await a.scheduleStep(WF, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    expect(await a.getStepState(WF, runId, "s")).toMatchObject({ status: "scheduled" }); // a caches the view
    expect(await b.claimScheduledStep(WF, runId, "s", "wb", claimMeta)).toEqual({ attemptNumber: 1 });
    // a's cache still says "scheduled"; its claim must lose, and its fenced writes must see b's claim.
    expect(await a.claimScheduledStep(WF, runId, "s", "wa", claimMeta)).toBeNull();
    await expect(a.saveStepHeartbeat(WF, runId, "s", "wa", 1)).rejects.toMatchObject({ code: "STALE_ATTEMPT" });
    await a.saveStepHeartbeat(WF, runId, "s", "wb", 1);
    await b.cancelRun(runId);
    await expect(a.saveStepHeartbeat(WF, runId, "s", "wb", 1)).rejects.toMatchObject({ code: "RUN_TERMINAL" });
    expect(await a.startRun(WF, runId, meta)).toBe(false);
  });

  it("writes one batch file per atomic write, readable with cat", async () => {
    const { dir, backend } = await store();
    const { runId } = await backend.submitRun({ workflowSlug: WF });
    await backend.startRun(WF, runId, meta);
    await backend.scheduleStep(WF, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    await backend.claimScheduledStep(WF, runId, "s", "w", claimMeta);
    await backend.saveStepFailedAndScheduleRetry(
      WF,
      runId,
      "s",
      { message: "boom" },
      { duration: 1, attemptNumber: 1, nextRetryAt: 0, failureReason: "execution-error" },
      { availableAt: 0, nextAttemptNumber: 2, retryDelayMs: 0, maxRetries: 3 },
    );
    const eventsDir = new FsLayout(dir).eventsDir({ workflowSlug: WF, runId });
    const names = (await readdir(eventsDir)).sort();
    expect(names).toEqual([0, 1, 2, 3, 4].map((n) => `${String(n).padStart(12, "0")}.json`));
    const last = JSON.parse(await readFile(join(eventsDir, names[4]!), "utf8")) as Array<{ type: string }>;
    expect(last.map((e) => e.type)).toEqual(["StepFailed", "StepRetrying", "StepScheduled"]);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("works with durability fsync", async () => {
    const { backend } = await store({ durability: "fsync" });
    const { runId } = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k" });
    expect(await backend.startRun(WF, runId, meta)).toBe(true);
    await backend.registerWorkflow({ slug: WF, name: "W", steps: [] });
    expect((await backend.getRun(runId))?.status).toBe("running");
    expect(backend.driver.durability).toBe("fsync");
  });

  it("reclaims a stale step once, by the injected clock", async () => {
    const clock = new ManualClock();
    const { backend } = await store({ clock });
    const { runId } = await backend.submitRun({ workflowSlug: WF });
    await backend.scheduleStep(WF, runId, "s", { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 });
    await backend.claimScheduledStep(WF, runId, "s", "w", claimMeta);
    clock.advanceMs(5000);
    const [first, second] = await Promise.all([
      backend.reclaimStaleSteps(1000, "r1"),
      backend.reclaimStaleSteps(1000, "r2"),
    ]);
    expect([...first!, ...second!]).toEqual([{ workflowSlug: WF, runId, stepId: "s" }]);
    expect(await backend.getStepState(WF, runId, "s")).toMatchObject({
      status: "scheduled",
      attemptNumber: 2,
      wasReclaimed: true,
    });
  });
});

describe("filesystem driver: submissions racing in one process", () => {
  it("with one caller-chosen run id (with and without a key, same timestamp) create exactly one run and keep its index entries", async () => {
    const clock = new ManualClock();
    const { dir, backend } = await store({ clock });
    const others = await Promise.all(Array.from({ length: 3 }, () => openFs(dir, { durability: "none", clock })));
    for (const [i, options] of [{ runId: "fixed-1", idempotencyKey: "k" }, { runId: "fixed-2" }].entries()) {
      const results = await Promise.all(
        [backend, ...others].map((b) => b.submitRun({ workflowSlug: WF, input: 1, ...options })),
      );
      expect(results.filter((r) => r.isNew)).toHaveLength(1);
      expect(new Set(results.map((r) => r.runId))).toEqual(new Set([options.runId]));
      const cold = await openFs(dir, { durability: "none", clock });
      expect((await cold.listRuns()).map((r) => r.runId).sort()).toEqual(["fixed-1", "fixed-2"].slice(0, i + 1));
      expect((await cold.listRuns({ status: ["pending"] })).map((r) => r.runId).sort()).toEqual(
        ["fixed-1", "fixed-2"].slice(0, i + 1),
      );
      expect((await cold.getRun(options.runId))?.status).toBe("pending");
    }
  });
});

describe("filesystem driver: the store", () => {
  it("stores a `sha256:<hex>` version under a portable file name (':' encoded), keeps old names, and reads both back", async () => {
    const { dir, backend } = await store();
    const id = `sha256:${"ab12".repeat(16)}`;
    await backend.createWorkflowVersion({
      workflowSlug: WF,
      versionId: id,
      contentHash: "h1",
      steps: [],
      createdAtUs: 2,
    });
    await backend.createWorkflowVersion({
      workflowSlug: WF,
      versionId: "v1",
      contentHash: "h0",
      steps: [],
      createdAtUs: 1,
    });
    expect((await readdir(join(dir, "versions", WF))).sort()).toEqual([
      `sha256%3A${"ab12".repeat(16)}.json`,
      "v1.json",
    ]);
    expect(new FsLayout(dir).versionFile(WF, id)).toBe(join(dir, "versions", WF, `sha256%3A${"ab12".repeat(16)}.json`));
    const reopened = await openFs(dir, { durability: "none" });
    expect((await reopened.listWorkflowVersions(WF)).map((v) => v.versionId)).toEqual([id, "v1"]);
    expect((await reopened.getWorkflowVersion(WF, id))?.contentHash).toBe("h1");
  });

  it("refuses a non-empty directory that is not a store, and a store of a newer format", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-fs-foreign-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "notes.txt"), "mine");
    await expect(new FileSystemBackend(dir).initialize()).rejects.toMatchObject({ code: "NOT_A_CAIRN_STORE" });
    await rm(join(dir, "notes.txt"));
    await writeFile(join(dir, "cairn-store.json"), JSON.stringify({ format: "cairn-fs", schemaVersion: 99 }));
    await expect(new FileSystemBackend(dir).initialize()).rejects.toMatchObject({ code: "SCHEMA_TOO_NEW" });
  });

  it("refuses to be used after close", async () => {
    const { backend } = await store();
    await backend.close();
    await expect(backend.getRun("r")).rejects.toMatchObject({ code: "BACKEND_CLOSED" });
  });

  it("keeps every path under the base directory", async () => {
    const { dir, backend } = await store();
    const layout = new FsLayout(dir);
    expect(() => layout.runDir({ workflowSlug: "..", runId: "x" })).toThrow(/unsafe/);
    expect(() => layout.batchFile({ workflowSlug: "a/b", runId: "x" }, 0)).toThrow(/unsafe/);
    await expect(backend.getRun("../../etc")).rejects.toMatchObject({ code: "INVALID_IDENTIFIER" });
    const out = backend.getStepOutputPath(WF, "r1", "etl/extract", 2);
    expect(out.startsWith(layout.root + sep)).toBe(true);
    expect(out).toBe(join(layout.root, "outputs", WF, "r1", "etl", "extract", "attempt-2.output.json"));
  });

  it("openBackend opens the same store and validates its config", async () => {
    const { dir, backend } = await store();
    const { runId } = await backend.submitRun({ workflowSlug: WF });
    const other = await openBackend({ dir, durability: "none" });
    expect((await other.getRun(runId))?.runId).toBe(runId);
    await expect(openBackend({})).rejects.toMatchObject({ code: "CONFIG_ERROR" });
    await expect(openBackend({ dir, durability: "sometimes" })).rejects.toMatchObject({ code: "CONFIG_ERROR" });
  });
});

describe("filesystem driver: durability fsync under concurrency", () => {
  it.each(["sync", "threadpool"] as const)(
    "runs 12 concurrent lives with shared (group-committed) directory flushes and leaves no temp file (metadata calls: %s)",
    async (metadataCalls) => {
      const { dir, backend } = await store({ durability: "fsync", metadataCalls });
      const ids = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const { runId } = await backend.submitRun({
            workflowSlug: WF,
            input: i,
            ...(i % 3 === 0 ? { idempotencyKey: `k${i}` } : {}),
          });
          await backend.startRun(WF, runId, meta);
          await backend.scheduleStep(WF, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
          expect(await backend.claimScheduledStep(WF, runId, "s", "w", claimMeta)).toEqual({ attemptNumber: 1 });
          await backend.saveStepComplete(WF, runId, "s", i, { timestamp: 0, duration: 1, attemptNumber: 1, output: i });
          await backend.saveWorkflowComplete(WF, runId, i, {
            workflowAttemptNumber: 1,
            timestamp: 0,
            duration: 1,
            totalSteps: 1,
          });
          return runId;
        }),
      );
      const cold = await openFs(dir, { durability: "none" });
      for (const id of ids) expect((await cold.getRun(id))?.status).toBe("completed");
      expect((await cold.listRuns({})).map((r) => r.runId).sort()).toEqual([...ids].sort());
      expect(await cold.listActiveWorkflows()).toEqual([]);
      expect(await readdir(join(dir, "tmp"))).toEqual([]);
    },
    60_000,
  );
});

describe("filesystem driver: metadata calls on the thread pool", () => {
  it("keeps the lock-free guarantees: racing claims from two backends, one winner", async () => {
    const { dir, backend } = await store({ metadataCalls: "threadpool" });
    const other = await openFs(dir, { durability: "none", metadataCalls: "threadpool" });
    const { runId } = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k" });
    expect(await other.submitRun({ workflowSlug: WF, idempotencyKey: "k" })).toEqual({ runId, isNew: false });
    await backend.scheduleStep(WF, runId, "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    const claims = await Promise.all(
      [backend, other, backend, other].map((b, i) => b.claimScheduledStep(WF, runId, "s", `w${i}`, claimMeta)),
    );
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });
});
