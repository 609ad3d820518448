import { describe, expect, it } from "vitest";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { WF, countEvents } from "./support/scenario.js";

/** submitRun: defaults, idempotency (in one process and across processes), atomic failure, and startRun. */
export function submitTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);

  describe("submit", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, "wf-other"] });

    it("creates a pending run with defaults (available now, priority 0) and every given field", async () => {
      const { backend, clock } = t;
      const { runId, isNew } = await backend.submitRun({ workflowSlug: WF, input: { n: 1, s: "é" } });
      expect(isNew).toBe(true);
      expect(await backend.getRun(runId)).toMatchObject({
        runId,
        workflowSlug: WF,
        status: "pending",
        createdAtUs: clock.nowUs(),
        availableAtUs: clock.nowUs(),
        priority: 0,
        input: JSON.stringify({ n: 1, s: "é" }),
        tags: [],
      });
      const later = clock.nowUs() + 5_000_000;
      const full = await backend.submitRun({
        workflowSlug: WF,
        runId: "run-full",
        availableAtUs: later,
        priority: -3,
        tags: ["x", "y"],
        metadata: { who: "me" },
        timeoutUs: 9_000,
        versionId: "v1",
        idempotencyKey: "k-full",
      });
      expect(full).toEqual({ runId: "run-full", isNew: true });
      expect(await backend.getRun("run-full")).toMatchObject({
        availableAtUs: later,
        priority: -3,
        tags: ["x", "y"],
        metadata: { who: "me" },
        timeoutUs: 9_000,
        versionId: "v1",
        idempotencyKey: "k-full",
      });
      expect((await backend.getRun("run-full"))?.input).toBeUndefined();
      expect(await countEvents(backend, { workflowSlug: WF, runId: "run-full" }, "RunSubmitted")).toBe(1);
    });

    it("returns the existing run for a repeated idempotency key, rejects a different input with IDEMPOTENCY_CONFLICT, and scopes keys per workflow", async () => {
      const { backend } = t;
      const first = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "order-42", input: { a: 1 } });
      expect(first.isNew).toBe(true);
      expect(await backend.submitRun({ workflowSlug: WF, idempotencyKey: "order-42", input: { a: 1 } })).toEqual({
        runId: first.runId,
        isNew: false,
      });
      const err = await expectCode(
        backend.submitRun({ workflowSlug: WF, idempotencyKey: "order-42", input: { a: 2 } }),
        "IDEMPOTENCY_CONFLICT",
      );
      expect(err.message).toContain("order-42");
      await expectCode(
        backend.submitRun({ workflowSlug: WF, idempotencyKey: "order-42" }),
        "IDEMPOTENCY_CONFLICT",
        "missing input",
      );
      const other = await backend.submitRun({ workflowSlug: "wf-other", idempotencyKey: "order-42", input: { a: 2 } });
      expect(other.isNew).toBe(true);
      expect(other.runId).not.toBe(first.runId);
      expect((await backend.listRuns()).map((r) => r.runId).sort()).toEqual([first.runId, other.runId].sort());
      expect(await countEvents(backend, { workflowSlug: WF, runId: first.runId }, "RunSubmitted")).toBe(1);
    });

    it("compares an idempotent resubmit's input as canonical JSON: key order and whitespace do not conflict, array order and values do", async () => {
      const { backend } = t;
      const first = await backend.submitRun({
        workflowSlug: WF,
        idempotencyKey: "canon",
        input: { a: 1, b: 2, nested: { p: [1, { y: 2, x: 1 }], q: null } },
      });
      expect(first.isNew).toBe(true);
      expect(
        await backend.submitRun({
          workflowSlug: WF,
          idempotencyKey: "canon",
          input: { nested: { q: null, p: [1, { x: 1, y: 2 }] }, b: 2, a: 1 },
        }),
      ).toEqual({ runId: first.runId, isNew: false });
      await expectCode(
        backend.submitRun({
          workflowSlug: WF,
          idempotencyKey: "canon",
          input: { a: 1, b: 2, nested: { p: [{ x: 1, y: 2 }, 1], q: null } },
        }),
        "IDEMPOTENCY_CONFLICT",
        "array order",
      );
      await expectCode(
        backend.submitRun({
          workflowSlug: WF,
          idempotencyKey: "canon",
          input: { a: 1, b: 2, nested: { p: [1, { x: 1, y: 2 }] } },
        }),
        "IDEMPOTENCY_CONFLICT",
        "missing key",
      );
      expect(JSON.parse((await backend.getRun(first.runId))!.input!)).toEqual({
        a: 1,
        b: 2,
        nested: { p: [1, { y: 2, x: 1 }], q: null },
      });
      // The seed's saveRunSubmitted takes the input already serialised: the same value in other text is the same input.
      await backend.saveRunSubmitted(WF, "run-canon-text", {
        availableAt: 0,
        priority: 0,
        hasInputSchema: false,
        idempotencyKey: "canon-text",
        input: '{"a":1,"b":2}',
      });
      await backend.saveRunSubmitted(WF, "run-canon-text-2", {
        availableAt: 0,
        priority: 0,
        hasInputSchema: false,
        idempotencyKey: "canon-text",
        input: '{ "b": 2, "a": 1 }',
      });
      expect((await backend.listRuns()).map((r) => r.runId).sort()).toEqual([first.runId, "run-canon-text"].sort());
      await expectCode(
        backend.saveRunSubmitted(WF, "run-canon-text-3", {
          availableAt: 0,
          priority: 0,
          hasInputSchema: false,
          idempotencyKey: "canon-text",
          input: '{"a":1,"b":3}',
        }),
        "IDEMPOTENCY_CONFLICT",
      );
      expect(await countEvents(backend, { workflowSlug: WF, runId: first.runId }, "RunSubmitted")).toBe(1);
    });

    it("never creates a second run with an existing run id, even in another workflow", async () => {
      const { backend } = t;
      await backend.submitRun({ workflowSlug: WF, runId: "run-taken" });
      expect(await backend.submitRun({ workflowSlug: WF, runId: "run-taken" })).toEqual({
        runId: "run-taken",
        isNew: false,
      });
      expect(await backend.submitRun({ workflowSlug: "wf-other", runId: "run-taken" })).toEqual({
        runId: "run-taken",
        isNew: false,
      });
      expect((await backend.getRun("run-taken"))?.workflowSlug).toBe(WF);
      expect(await backend.listRuns({ workflowSlug: "wf-other" })).toEqual([]);
      expect(await backend.runExists("wf-other", "run-taken")).toBe(false);
      expect(await countEvents(backend, { workflowSlug: WF, runId: "run-taken" }, "RunSubmitted")).toBe(1);
    });

    it("leaves no trace of a failed submit (invalid fields or ids), and a failed submit does not reserve its key", async () => {
      const { backend } = t;
      const kept = await backend.submitRun({ workflowSlug: WF, runId: "run-kept" });
      const bad: Array<[string, unknown, string | string[]]> = [
        ["fractional priority", { workflowSlug: WF, priority: 1.5, idempotencyKey: "k" }, "INVALID_EVENT"],
        ["negative availableAt", { workflowSlug: WF, availableAtUs: -5, idempotencyKey: "k" }, "INVALID_EVENT"],
        ["empty tag", { workflowSlug: WF, tags: [""], idempotencyKey: "k" }, "INVALID_EVENT"],
        ["tags not an array", { workflowSlug: WF, tags: "x", idempotencyKey: "k" }, "INVALID_EVENT"],
        ["empty idempotency key", { workflowSlug: WF, idempotencyKey: "" }, "INVALID_EVENT"],
        ["zero timeout", { workflowSlug: WF, timeoutUs: 0, idempotencyKey: "k" }, "INVALID_EVENT"],
        ["bad slug", { workflowSlug: "../x", idempotencyKey: "k" }, "INVALID_IDENTIFIER"],
        ["bad run id", { workflowSlug: WF, runId: "a/b", idempotencyKey: "k" }, "INVALID_IDENTIFIER"],
        ["no slug", { idempotencyKey: "k" }, ["INVALID_IDENTIFIER", "INVALID_EVENT"]],
        ["not an object", null, "INVALID_EVENT"],
      ];
      for (const [label, submission, code] of bad)
        await expectCode(backend.submitRun(submission as never), code, label);
      expect((await backend.listRuns()).map((r) => r.runId)).toEqual([kept.runId]);
      expect(await backend.listActiveWorkflows()).toEqual([WF]);
      const fresh = await backend.submitRun({ workflowSlug: WF, idempotencyKey: "k", input: 1 });
      expect(fresh.isNew).toBe(true);
    });

    it("serialises inputs JSON cannot express instead of throwing", async () => {
      const { backend } = t;
      const cyclic: Record<string, unknown> = { big: 10n };
      cyclic.self = cyclic;
      const { runId } = await backend.submitRun({ workflowSlug: WF, input: cyclic });
      expect(JSON.parse((await backend.getRun(runId))!.input!)).toEqual({
        big: { $bigint: "10" },
        self: { $circular: "$" },
      });
    });

    it("starts a run exactly once under concurrent callers, and never a terminal or not-yet-available run", async () => {
      const { backend, clock } = t;
      const { runId } = await backend.submitRun({ workflowSlug: WF });
      const meta = { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false };
      const results = await Promise.all(Array.from({ length: 8 }, () => backend.startRun(WF, runId, meta)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await countEvents(backend, { workflowSlug: WF, runId }, "WorkflowStarted")).toBe(1);
      expect(await backend.getRun(runId)).toMatchObject({
        status: "running",
        startedAtUs: clock.nowUs(),
        workflowAttemptNumber: 1,
      });
      const { runId: future } = await backend.submitRun({ workflowSlug: WF, availableAtUs: clock.nowUs() + 1_000 });
      expect(await backend.startRun(WF, future, meta)).toBe(false);
      const { runId: cancelled } = await backend.submitRun({ workflowSlug: WF });
      await backend.cancelRun(cancelled);
      expect(await backend.startRun(WF, cancelled, meta)).toBe(false);
      expect(await backend.startRun(WF, "run-missing", meta)).toBe(false);
      clock.advanceMs(1);
      expect(await backend.startRun(WF, future, meta)).toBe(true);
      expect(await countEvents(backend, { workflowSlug: WF, runId: cancelled }, "WorkflowStarted")).toBe(0);
    });
  });

  describe.skipIf(!caps.multiProcess)("submit: idempotency across processes", () => {
    const t = useInstance(h, { workflows: [WF] });

    it("8 processes submitting one key: exactly one isNew, all get the same run id, one run stored", async () => {
      const { backend } = t;
      const results = await withChildren(procs, t.instance.opener, 8, (group) =>
        group.round<{ runId: string; isNew: boolean }>(() => ({
          task: "submit",
          submission: { workflowSlug: WF, idempotencyKey: "shared-key", input: { same: true } },
        })),
      );
      expect(results.filter((r) => r.isNew)).toHaveLength(1);
      expect(new Set(results.map((r) => r.runId)).size).toBe(1);
      const runs = await backend.listRuns({ workflowSlug: WF });
      expect(runs.map((r) => r.runId)).toEqual([results[0]!.runId]);
      expect(await countEvents(backend, { workflowSlug: WF, runId: results[0]!.runId }, "RunSubmitted")).toBe(1);
    }, 90_000);
  });
}
