import { expect, it } from "vitest";
import { ConfigError, reduceStepState } from "@cairn/backend-interface";
import type { EventOf } from "@cairn/backend-interface";
import { PostgresBackend } from "../src/index.js";
import { describePostgres } from "../../../test-support/postgres.js";
import { expectProjectionsMatchEvents, freshBackend, sameSchema, withClient } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

const meta = (attemptNumber = 0) => ({ dependencies: [], timestamp: 0, attemptNumber });

describePostgres("PostgresBackend", () => {
  it("keeps projection rows equal to the projection of the events through a full lifecycle", async () => {
    const { backend, clock } = await freshBackend({ manualClock: true });
    await registerManual(backend, "wf");
    const c = clock!;
    const runIds: string[] = [];
    for (let i = 0; i < 4; i++)
      runIds.push((await backend.submitRun({ workflowSlug: "wf", runId: `r${i}`, input: { i }, tags: ["t"] })).runId);
    for (const runId of runIds) {
      expect(
        await backend.startRun("wf", runId, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: true }),
      ).toBe(true);
      for (const stepId of ["a", "b/c"])
        await backend.scheduleStep("wf", runId, stepId, {
          availableAt: c.nowUs(),
          reason: "initial",
          attemptNumber: 1,
        });
    }
    c.advanceMs(1);
    const claimed = await backend.claimScheduledSteps("w1", { limit: 5 });
    expect(claimed).toHaveLength(5);
    const [x, y, z] = claimed;
    await backend.saveStepHeartbeat(x!.workflowSlug, x!.runId, x!.stepId, "w1", x!.attemptNumber);
    await backend.saveStepComplete(
      x!.workflowSlug,
      x!.runId,
      x!.stepId,
      { ok: 1 },
      { timestamp: 0, duration: 5, attemptNumber: 1, output: null },
    );
    await backend.saveStepFailedAndScheduleRetry(
      y!.workflowSlug,
      y!.runId,
      y!.stepId,
      { message: "boom" },
      { duration: 3, attemptNumber: 1, nextRetryAt: c.nowUs(), failureReason: "execution-error" },
      { availableAt: c.nowUs(), nextAttemptNumber: 2, retryDelayMs: 0, maxRetries: 3 },
    );
    c.advanceMs(60_000);
    const reclaimed = await backend.reclaimStaleSteps(1000, "reaper");
    expect(reclaimed.length).toBeGreaterThanOrEqual(1);
    await backend.cancelRun(z!.runId);
    await backend.saveWorkflowComplete(
      "wf",
      "r3",
      { done: true },
      { workflowAttemptNumber: 1, timestamp: 0, duration: 10, totalSteps: 2 },
    );
    await expectProjectionsMatchEvents(backend, "wf", runIds);
    expect((await backend.listScheduledSteps()).every((s) => s.runId !== z!.runId && s.runId !== "r3")).toBe(true);
  });

  it("computes the claimed step state in SQL exactly as reduceStepState does (and falls back for states jsonb cannot hold)", async () => {
    const { backend, clock } = await freshBackend({ manualClock: true });
    await registerManual(backend, "wf");
    const c = clock!;
    await backend.submitRun({ workflowSlug: "wf", runId: "r1" });
    for (const [stepId, message] of [
      ["s", "first failure"],
      ["nul", "bad \u0000 byte"],
      ["scoped", "third failure"],
    ] as const) {
      await backend.scheduleStep("wf", "r1", stepId, {
        availableAt: c.nowUs(),
        reason: "initial",
        attemptNumber: 1,
        priority: 3,
      });
      c.advanceMs(1);
      expect(
        await backend.claimScheduledStep("wf", "r1", stepId, "w1", { ...meta(), slotIndex: 2, workerConcurrency: 4 }),
      ).toEqual({ attemptNumber: 1 });
      c.advanceMs(1);
      await backend.saveStepHeartbeat("wf", "r1", stepId, "w1", 1);
      await backend.saveStepFailedAndScheduleRetry(
        "wf",
        "r1",
        stepId,
        { message },
        { duration: 3, attemptNumber: 1, nextRetryAt: c.nowUs(), failureReason: "execution-error" },
        { availableAt: c.nowUs(), nextAttemptNumber: 2, retryDelayMs: 0, maxRetries: 3 },
      );
      const before = await backend.getStepState("wf", "r1", stepId);
      expect(before?.nextRetryAtUs).toBeDefined();
      c.advanceMs(1);
      const claimed =
        stepId === "s"
          ? await backend.claimScheduledSteps("w2", { limit: 1, dependencies: () => ["a", "b"] })
          : stepId === "scoped"
            ? await backend.claimScheduledSteps("w2", {
                limit: 1,
                workflows: { other: {}, wf: { scoped: ["a", "c"] } },
              })
            : await backend.claimScheduledSteps("w2", { limit: 1 });
      expect(claimed).toEqual([{ workflowSlug: "wf", runId: "r1", stepId, attemptNumber: 2 }]);
      const started = (await backend.loadEvents("wf", "r1", { category: "step", stepId })).at(
        -1,
      ) as EventOf<"StepStarted">;
      expect(started).toMatchObject({
        type: "StepStarted",
        workerId: "w2",
        attemptNumber: 2,
        dependencies: stepId === "s" ? ["a", "b"] : stepId === "scoped" ? ["a", "c"] : [],
      });
      expect(await backend.getStepState("wf", "r1", stepId)).toEqual(reduceStepState(before, started));
    }
    const first = (await backend.loadEvents("wf", "r1", { category: "step", stepId: "s" })).find(
      (e) => e.type === "StepStarted",
    );
    expect(first).toMatchObject({ slotIndex: 2, workerConcurrency: 4 });
  });

  it("keeps the analytics columns of every event equal to its body, on every write path", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", runId: "r1" });
    for (const s of ["a", "b", "c"])
      await backend.scheduleStep("wf", "r1", s, { availableAt: 0, reason: "initial", attemptNumber: 1 });
    const [one] = await backend.claimScheduledSteps("w1", { limit: 1, dependencies: () => ["x"] });
    const [two] = await backend.claimScheduledSteps("w2", { limit: 1 });
    expect(await backend.claimScheduledStep("wf", "r1", "c", "w3", { ...meta(), workerConcurrency: 4 })).toEqual({
      attemptNumber: 1,
    });
    await backend.saveStepHeartbeat("wf", "r1", one!.stepId, "w1", 1, { workerConcurrency: 2 });
    await backend.saveStepComplete("wf", "r1", one!.stepId, 1, {
      timestamp: 0,
      duration: 7,
      attemptNumber: 1,
      output: 1,
    });
    await backend.saveStepFailedAndScheduleRetry(
      "wf",
      "r1",
      two!.stepId,
      { message: "x" },
      { duration: 3, attemptNumber: 1, nextRetryAt: 0, failureReason: "timeout" },
      { availableAt: 5, nextAttemptNumber: 2, retryDelayMs: 0, maxRetries: 3 },
    );
    await backend.reclaimStaleSteps(0, "reaper");
    await backend.rerunFrom({ parentRunId: "r1", fromStepId: "b", runId: "r2" });
    const rows = await withClient(url, (c) =>
      c.query(
        `SELECT duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency, body FROM "${schema}".events`,
      ),
    );
    expect(rows.rows.length).toBeGreaterThan(10);
    for (const r of rows.rows) {
      const e = r.body;
      expect(
        {
          wc: r.worker_concurrency,
          d: r.duration_us === null ? null : Number(r.duration_us),
          t: r.terminal,
          c: r.copied,
          a: r.attempt_number,
          av: r.available_at_us === null ? null : Number(r.available_at_us),
          w: r.worker_id,
          re: r.reason,
        },
        e.type,
      ).toEqual({
        wc: e.workerConcurrency ?? null,
        d: e.durationUs ?? null,
        t: e.type === "StepFailed" ? e.terminal : null,
        c: e.copiedFromRunId !== undefined,
        a: e.category === "step" ? e.attemptNumber : null,
        av: e.type === "StepScheduled" ? e.availableAtUs : null,
        w: e.workerId ?? e.originalWorkerId ?? null,
        re: e.type === "StepScheduled" ? e.reason : e.type === "StepFailed" ? e.failureReason : null,
      });
    }
  });

  it("with listen: false wakes subscribers by polling; a closed backend refuses calls with BACKEND_CLOSED", async () => {
    const { backend, url, schema } = await freshBackend({ listen: false, pollIntervalMs: 20 });
    expect(backend.capabilities.notifications).toBe(false);
    let wakes = 0;
    const off = backend.subscribe(() => wakes++);
    await new Promise((r) => setTimeout(r, 120));
    off();
    expect(wakes).toBeGreaterThanOrEqual(2);
    const other = await sameSchema(url, schema);
    await other.close();
    await expect(other.getRun("r1")).rejects.toMatchObject({ code: "BACKEND_CLOSED" });
  });

  it("refuses a guarded write without writing anything, and routes fencing through the guard", async () => {
    const { backend } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", runId: "r1" });
    await backend.scheduleStep("wf", "r1", "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    const before = (await backend.loadEvents("wf", "r1")).length;
    await expect(backend.saveStepHeartbeat("wf", "r1", "s", "w", 1)).rejects.toMatchObject({ code: "STALE_ATTEMPT" });
    expect((await backend.loadEvents("wf", "r1")).length).toBe(before);
    expect(await backend.claimScheduledStep("wf", "r1", "s", "w", meta())).toEqual({ attemptNumber: 1 });
    expect(await backend.claimScheduledStep("wf", "r1", "s", "w2", meta())).toBeNull();
    await expect(
      backend.saveStepComplete("wf", "r1", "s", 1, { timestamp: 0, duration: 1, attemptNumber: 2, output: 1 }),
    ).rejects.toMatchObject({ code: "STALE_ATTEMPT" });
  });

  it("stores quotes, semicolons and SQL keywords verbatim (every value is a bound parameter)", async () => {
    const { backend, schema, url } = await freshBackend();
    const nasty = `'; DROP TABLE "${schema}".events; -- $1 \\ "quoted" ' OR 1=1`;
    await registerManual(backend, "wf_select.from-x");
    const { runId } = await backend.submitRun({
      workflowSlug: "wf_select.from-x",
      runId: "run.drop_table-1",
      input: { nasty },
      idempotencyKey: nasty,
      tags: [nasty, "SELECT * FROM runs"],
      metadata: { [nasty]: nasty },
    });
    await backend.saveStepLogs("wf_select.from-x", runId, "step/insert", [
      { timestampUs: 1, stream: "stdout", message: nasty, attemptNumber: 1 },
    ]);
    await backend.registerWorkflow({ slug: "wf_select.from-x", name: nasty, description: nasty, steps: [] });
    const run = await backend.getRun(runId);
    expect(run).toMatchObject({
      idempotencyKey: nasty,
      tags: [nasty, "SELECT * FROM runs"],
      metadata: { [nasty]: nasty },
      input: JSON.stringify({ nasty }),
    });
    expect((await backend.loadStepLogs("wf_select.from-x", runId, "step/insert"))?.[0]?.message).toBe(nasty);
    expect((await backend.getWorkflowMetadata("wf_select.from-x"))?.name).toBe(nasty);
    expect((await backend.listRuns({ tags: [nasty] })).map((r) => r.runId)).toEqual([runId]);
    expect(
      (await backend.submitRun({ workflowSlug: "wf_select.from-x", idempotencyKey: nasty, input: { nasty } })).isNew,
    ).toBe(false);
    const tables = await withClient(url, (c) =>
      c.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1", [schema]),
    );
    expect(tables.rows[0].n).toBe(11);
  });

  it("keeps deployments in different schemas of one database apart, and validates the schema name", async () => {
    const a = await freshBackend();
    const b = await freshBackend();
    await registerManual(a.backend, "wf");
    await registerManual(b.backend, "wf");
    await a.backend.submitRun({ workflowSlug: "wf", runId: "same-id" });
    expect(await b.backend.getRun("same-id")).toBeNull();
    expect((await b.backend.submitRun({ workflowSlug: "wf", runId: "same-id" })).isNew).toBe(true);
    for (const bad of ['x"; DROP SCHEMA public; --', "Upper", "", "pg_catalog", "a".repeat(51), "1abc"]) {
      expect(() => new PostgresBackend({ connectionString: a.url, schema: bad })).toThrow(ConfigError);
    }
    const again = await sameSchema(a.url, a.schema);
    expect((await again.getRun("same-id"))?.workflowSlug).toBe("wf");
  });

  it("reads indexed queries without scanning history (plans use the partial indexes)", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", runId: "r1" });
    await backend.scheduleStep("wf", "r1", "s", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    const plan = await withClient(url, async (c) => {
      await c.query("SET enable_seqscan = off");
      const r = await c.query(
        `EXPLAIN SELECT workflow_slug, run_id, step_id FROM "${schema}".steps WHERE workflow_slug = 'wf' AND status = 'scheduled' AND run_live AND available_at_us <= 10 ORDER BY priority DESC, available_at_us, run_id, step_id LIMIT 5`,
      );
      return r.rows.map((x: { "QUERY PLAN": string }) => x["QUERY PLAN"]).join("\n");
    });
    expect(plan).toContain("steps_ready_by_workflow_idx");
  });
});
