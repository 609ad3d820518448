import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import {
  projectRunState,
  projectStepStates,
  type ManualClock,
  type StepEvent,
  type WorkflowEvent,
} from "@cairn/backend-interface";
import type { SqliteBackend } from "../src/index.js";
import { claimMeta, freshBackend } from "./helpers.js";
import { READY_OF_WORKFLOW_SQL, READY_WORKFLOWS_SQL } from "../src/sqlite-queries.js";
import { registerManual } from "../../../test-support/register.js";

const WF = "wf";
let backend: SqliteBackend;
let clock: ManualClock;
let filename: string;
let dispose: () => Promise<void>;

beforeEach(async () => {
  ({ backend, clock, filename, dispose } = await freshBackend());
  await registerManual(backend, WF, "other", "b");
});
afterEach(async () => dispose());

async function runWithStep(stepId = "s", runId?: string): Promise<string> {
  const { runId: id } = await backend.submitRun({ workflowSlug: WF, ...(runId ? { runId } : {}) });
  expect(
    await backend.scheduleStep(WF, id, stepId, { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 }),
  ).toBe(true);
  return id;
}

async function expectRowsEqualProjection(runId: string): Promise<void> {
  const events = await backend.loadEvents(WF, runId);
  expect(await backend.getRun(runId)).toEqual(
    projectRunState(events.filter((e): e is WorkflowEvent => e.category === "workflow")),
  );
  expect(await backend.loadRun(WF, runId)).toEqual([
    ...projectStepStates(events.filter((e): e is StepEvent => e.category === "step")).values(),
  ]);
}

describe("SqliteBackend guarded writes", () => {
  it("claims exactly once and fences stale attempts", async () => {
    const runId = await runWithStep();
    expect(await backend.claimScheduledStep(WF, runId, "s", "w1", claimMeta)).toEqual({ attemptNumber: 1 });
    expect(await backend.claimScheduledStep(WF, runId, "s", "w2", claimMeta)).toBeNull();
    await backend.saveStepFailedAndScheduleRetry(
      WF,
      runId,
      "s",
      { message: "boom" },
      { duration: 1, attemptNumber: 1, nextRetryAt: clock.nowUs(), failureReason: "execution-error" },
      { availableAt: clock.nowUs(), nextAttemptNumber: 2, retryDelayMs: 0, maxRetries: 3 },
    );
    expect(await backend.claimScheduledStep(WF, runId, "s", "w2", claimMeta)).toEqual({ attemptNumber: 2 });
    await expect(
      backend.saveStepComplete(WF, runId, "s", 1, { timestamp: 0, duration: 1, attemptNumber: 1, output: 1 }),
    ).rejects.toMatchObject({ code: "STALE_ATTEMPT" });
    await expect(backend.saveStepHeartbeat(WF, runId, "s", "w1", 2)).rejects.toMatchObject({ code: "STALE_ATTEMPT" });
    await backend.saveStepComplete(
      WF,
      runId,
      "s",
      { ok: true },
      { timestamp: 0, duration: 1, attemptNumber: 2, output: null },
    );
    expect((await backend.getStepState(WF, runId, "s"))?.status).toBe("completed");
    await expectRowsEqualProjection(runId);
  });

  it("does not claim steps that are not yet available or whose run ended", async () => {
    const { runId } = await backend.submitRun({ workflowSlug: WF });
    await backend.scheduleStep(WF, runId, "later", {
      availableAt: clock.nowUs() + 1_000_000,
      reason: "initial",
      attemptNumber: 1,
    });
    await backend.scheduleStep(WF, runId, "now", { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 });
    expect((await backend.listScheduledSteps()).map((s) => s.stepId)).toEqual(["now"]);
    expect(await backend.claimScheduledStep(WF, runId, "later", "w", claimMeta)).toBeNull();
    await backend.cancelRun(runId);
    expect(await backend.listScheduledSteps({ availableBefore: clock.nowUs() + 2_000_000 })).toEqual([]);
    expect(await backend.claimScheduledStep(WF, runId, "now", "w", claimMeta)).toBeNull();
    expect(await backend.claimScheduledSteps("w", { limit: 10 })).toEqual([]);
    await expectRowsEqualProjection(runId);
  });

  it("batch-claims in listScheduledSteps order, up to the limit", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { runId } = await backend.submitRun({ workflowSlug: WF, runId: `run-${i}` });
      await backend.scheduleStep(WF, runId, "s", {
        availableAt: clock.nowUs() - i,
        reason: "initial",
        attemptNumber: 1,
        priority: i % 2,
      });
      ids.push(runId);
    }
    expect(backend.capabilities.batchClaim).toBe(true);
    const listed = await backend.listScheduledSteps({ limit: 3 });
    const claimed = await backend.claimScheduledSteps("w", { limit: 3, dependencies: () => ["dep"] });
    expect(claimed.map(({ attemptNumber: _a, ...ref }) => ref)).toEqual(listed);
    expect(listed.map((r) => r.runId)).toEqual(["run-3", "run-1", "run-4"]);
    expect((await backend.getStepState(WF, "run-3", "s"))?.dependencies).toEqual(["dep"]);
    expect(await backend.claimScheduledSteps("w", { limit: 10 })).toHaveLength(2);
  });

  it("reclaims a stale step once and reschedules it", async () => {
    const runId = await runWithStep();
    await backend.claimScheduledStep(WF, runId, "s", "w1", claimMeta);
    clock.advanceMs(61_000);
    const [first, second] = await Promise.all([
      backend.reclaimStaleSteps(60_000, "r1"),
      backend.reclaimStaleSteps(60_000, "r2"),
    ]);
    expect([...first!, ...second!]).toEqual([{ workflowSlug: WF, runId, stepId: "s" }]);
    const step = await backend.getStepState(WF, runId, "s");
    expect(step).toMatchObject({ status: "scheduled", attemptNumber: 2, wasReclaimed: true });
    await expectRowsEqualProjection(runId);
  });

  it("submits idempotently per workflow and rejects a different input", async () => {
    const a = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: { n: 1 } });
    expect(await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: { n: 1 } })).toEqual({
      runId: a.runId,
      isNew: false,
    });
    await expect(backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: { n: 2 } })).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
    });
    expect((await backend.submitRun({ workflowSlug: "other", idempotencyKey: "k", input: { n: 1 } })).isNew).toBe(true);
    expect(await backend.submitRun({ workflowSlug: "other", runId: a.runId, input: { n: 1 } })).toEqual({
      runId: a.runId,
      isNew: false,
    });
    expect(await backend.listRunIds(WF)).toEqual([a.runId]);
  });

  it("writes nothing for bad input", async () => {
    await expect(backend.submitRun({ workflowSlug: "../etc" })).rejects.toMatchObject({ code: "INVALID_IDENTIFIER" });
    await expect(backend.submitRun({ workflowSlug: WF, priority: 1.5 })).rejects.toMatchObject({
      code: "INVALID_EVENT",
    });
    const runId = await runWithStep();
    await expect(backend.appendEvent(WF, runId, { type: "StepStarted" } as never)).rejects.toMatchObject({
      code: "INVALID_EVENT",
    });
    await expect(backend.claimScheduledStep(WF, runId, "s", "", claimMeta)).rejects.toMatchObject({
      code: "INVALID_EVENT",
    });
    const db = new Database(filename, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: 2 });
    expect(db.prepare("SELECT count(*) AS n FROM runs").get()).toEqual({ n: 1 });
    db.close();
  });

  it("keeps every projection row equal to the projection of the events through a batch append", async () => {
    const runId = await runWithStep("a");
    const t = clock.nowUs();
    const ev = (stepId: string, type: "StepScheduled") => ({
      eventId: `e-${stepId}`,
      timestampUs: t,
      workflowSlug: WF,
      runId,
      category: "step" as const,
      stepId,
      type,
      availableAtUs: t,
      reason: "initial" as const,
      attemptNumber: 1,
    });
    await backend.batchAppendEvents([
      { workflowSlug: WF, runId, event: ev("b", "StepScheduled") },
      { workflowSlug: WF, runId, event: ev("c/d", "StepScheduled") },
    ]);
    await backend.startRun(WF, runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
    expect((await backend.loadRun(WF, runId)).map((s) => s.stepId)).toEqual(["a", "b", "c/d"]);
    await expectRowsEqualProjection(runId);
  });
});

describe("SqliteBackend queries", () => {
  it("lists runs newest first with status OR, tag AND and a limit", async () => {
    for (let i = 0; i < 6; i++) {
      clock.advanceMs(1);
      await backend.submitRun({
        workflowSlug: i < 4 ? WF : "b",
        runId: `r${i}`,
        tags: i % 2 ? ["odd", "x"] : ["even", "x"],
      });
    }
    await backend.startRun(WF, "r1", { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
    await backend.saveWorkflowComplete(WF, "r1", null, {
      workflowAttemptNumber: 1,
      timestamp: 0,
      duration: 1,
      totalSteps: 0,
    });
    const ids = async (o: Parameters<SqliteBackend["listRuns"]>[0]) => (await backend.listRuns(o)).map((r) => r.runId);
    expect(await ids({})).toEqual(["r5", "r4", "r3", "r2", "r1", "r0"]);
    expect(await ids({ limit: 2 })).toEqual(["r5", "r4"]);
    expect(await ids({ workflowSlug: WF, status: ["pending"] })).toEqual(["r3", "r2", "r0"]);
    expect(await ids({ status: ["completed", "pending"], limit: 3 })).toEqual(["r5", "r4", "r3"]);
    expect(await ids({ status: ["completed"] })).toEqual(["r1"]);
    expect(await ids({ tags: ["odd", "x"] })).toEqual(["r5", "r3", "r1"]);
    expect(await ids({ tags: ["odd", "even"] })).toEqual([]);
    expect(await backend.listActiveWorkflows()).toEqual(["b", WF]);
  });

  it("versions: idempotent per id, conflict on other content, newest first", async () => {
    const v = { workflowSlug: WF, versionId: "v1", contentHash: "h1", steps: [] };
    const created = await backend.createWorkflowVersion({ ...v, createdAtUs: 10 });
    expect(await backend.createWorkflowVersion(v)).toEqual(created);
    await expect(backend.createWorkflowVersion({ ...v, contentHash: "h2" })).rejects.toMatchObject({
      code: "VERSION_CONFLICT",
    });
    await backend.createWorkflowVersion({
      workflowSlug: WF,
      versionId: "v2",
      contentHash: "h2",
      steps: [],
      createdAtUs: 20,
    });
    expect((await backend.listWorkflowVersions(WF)).map((x) => x.versionId)).toEqual(["v2", "v1"]);
    await backend.registerWorkflow({ slug: WF, name: "W", versionId: "v1", steps: [{ id: "s", name: "S" }] });
    expect((await backend.getCurrentWorkflowVersion(WF))?.versionId).toBe("v1");
    expect((await backend.getWorkflowSteps(WF)).map((s) => s.id)).toEqual(["s"]);
  });

  it("uses the partial indexes for the polling queries", async () => {
    const db = new Database(filename, { readonly: true });
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(" | ");
    expect(plan("SELECT * FROM runs r ORDER BY r.created_at_us DESC, r.run_id DESC LIMIT 20")).toMatch(/runs_newest/);
    expect(
      plan(
        "SELECT * FROM runs r WHERE +r.status IN (SELECT value FROM json_each('[\"completed\"]')) ORDER BY r.created_at_us DESC, r.run_id DESC LIMIT 20",
      ),
    ).toMatch(/runs_newest/);
    expect(
      plan("SELECT * FROM runs r WHERE r.workflow_slug = 'x' ORDER BY r.created_at_us DESC, r.run_id DESC LIMIT 20"),
    ).toMatch(/runs_by_workflow/);
    expect(plan("SELECT * FROM events WHERE timestamp_us BETWEEN 1 AND 2 ORDER BY seq")).toMatch(/events_by_time/);
    // The ready queue: each workflow's walk seeks to its own range of the index and stops after `limit` (no sort), so
    // another workflow's backlog costs it nothing; every workflow is found by one probe of the index per workflow.
    const readyOf = plan(
      READY_OF_WORKFLOW_SQL.replace("workflow_slug = ?", "workflow_slug = 'x'").replaceAll("?", "1"),
    );
    expect(readyOf).toMatch(/SEARCH steps USING (COVERING )?INDEX steps_ready_by_workflow \(workflow_slug=\?\)/);
    expect(readyOf).not.toMatch(/TEMP B-TREE/);
    expect(plan(READY_WORKFLOWS_SQL)).toMatch(
      /SEARCH steps USING (COVERING )?INDEX steps_ready_by_workflow \(workflow_slug>\?\)/,
    );
    db.close();
  });
});
