import { describe, expect, it } from "vitest";
import type { StepRef } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, schedule, submit } from "./support/scenario.js";

const names = (refs: StepRef[]) => refs.map((r) => `${r.runId}/${r.stepId}`);

/** listScheduledSteps and listRuns: filters, order, limits. */
export function queryTests(h: ConformanceHarness): void {
  describe("listScheduledSteps", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, "wf-other"] });

    it("orders by priority descending, then availableAt ascending, then runId and stepId; honours limit, availableBefore and workflowSlug", async () => {
      const { backend, clock } = t;
      const now = clock.nowUs();
      const r1 = await submit(backend, { runId: "run-1" });
      const r2 = await submit(backend, { runId: "run-2" });
      const other = await submit(backend, { runId: "run-o", workflowSlug: "wf-other" });
      await schedule(backend, WF, r1, ["p0-old"], { availableAt: now - 3000, priority: 0 });
      await schedule(backend, WF, r1, ["p0-new"], { availableAt: now - 1000, priority: 0 });
      await schedule(backend, WF, r2, ["p5-b", "p5-a"], { availableAt: now - 2000, priority: 5 });
      await schedule(backend, WF, r1, ["p5-z"], { availableAt: now - 2000, priority: 5 });
      await schedule(backend, WF, r2, ["neg"], { availableAt: now - 9000, priority: -2 });
      await schedule(backend, WF, r2, ["future"], { availableAt: now + 10_000, priority: 100 });
      await schedule(backend, "wf-other", other, ["o"], { availableAt: now - 500, priority: 1 });
      const expected = [
        "run-1/p5-z",
        "run-2/p5-a",
        "run-2/p5-b",
        "run-o/o",
        "run-1/p0-old",
        "run-1/p0-new",
        "run-2/neg",
      ];
      const all = await backend.listScheduledSteps();
      expect(names(all)).toEqual(expected);
      expect(all[0]).toEqual({ workflowSlug: WF, runId: "run-1", stepId: "p5-z" });
      expect(names(await backend.listScheduledSteps({ limit: 3 }))).toEqual(expected.slice(0, 3));
      expect(names(await backend.listScheduledSteps({ limit: 1 }))).toEqual(expected.slice(0, 1));
      expect(await backend.listScheduledSteps({ limit: 0 })).toEqual([]);
      expect(names(await backend.listScheduledSteps({ workflowSlug: WF }))).toEqual(
        expected.filter((n) => !n.startsWith("run-o")),
      );
      expect(names(await backend.listScheduledSteps({ workflowSlug: "wf-other" }))).toEqual(["run-o/o"]);
      expect(await backend.listScheduledSteps({ workflowSlug: "wf-none" })).toEqual([]);
      expect(names(await backend.listScheduledSteps({ availableBefore: now - 2000 }))).toEqual([
        "run-1/p5-z",
        "run-2/p5-a",
        "run-2/p5-b",
        "run-1/p0-old",
        "run-2/neg",
      ]);
      expect(names(await backend.listScheduledSteps({ availableBefore: now + 10_000, limit: 2 }))).toEqual([
        "run-2/future",
        "run-1/p5-z",
      ]);
      await expectCode(backend.listScheduledSteps({ limit: -1 }), "INVALID_ARGUMENT");
    });

    it("lists only scheduled, available steps of live runs: not running, finished, cancelled-run or finished-run steps", async () => {
      const { backend } = t;
      const live = await submit(backend, { runId: "run-live" });
      const [s1, s2, s3] = await schedule(backend, WF, live, ["waiting", "running", "done"]);
      await claim(backend, s2!);
      await complete(backend, s3!, await claim(backend, s3!));
      const cancelled = await submit(backend, { runId: "run-cancelled" });
      await schedule(backend, WF, cancelled, ["s"]);
      await backend.cancelRun(cancelled);
      const finished = await submit(backend, { runId: "run-finished" });
      await schedule(backend, WF, finished, ["s"]);
      await backend.saveWorkflowComplete(WF, finished, 1, {
        workflowAttemptNumber: 1,
        timestamp: 0,
        duration: 1,
        totalSteps: 1,
      });
      const failed = await submit(backend, { runId: "run-failed" });
      await schedule(backend, WF, failed, ["s"]);
      await backend.saveWorkflowFailed(
        WF,
        failed,
        { message: "x" },
        { workflowAttemptNumber: 1, duration: 1, completedSteps: 0 },
        "step-failed",
      );
      expect(await backend.listScheduledSteps()).toEqual([s1]);
    });
  });

  describe("listRuns", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, "wf-other"] });

    it("lists newest first, filters by workflow, status (OR) and tags (AND), and honours limit", async () => {
      const { backend, clock } = t;
      const mk = async (runId: string, slug: string, tags: string[]) => {
        clock.advanceMs(1);
        await backend.submitRun({ workflowSlug: slug, runId, tags });
      };
      await mk("run-a", WF, ["red", "big"]);
      await mk("run-b", WF, ["red"]);
      await mk("run-c", "wf-other", ["red", "big"]);
      await mk("run-d", WF, []);
      await mk("run-e", WF, ["big"]);
      const meta = { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false };
      expect(await backend.startRun(WF, "run-b", meta)).toBe(true);
      expect(await backend.startRun(WF, "run-d", meta)).toBe(true);
      await backend.saveWorkflowComplete(WF, "run-d", 1, {
        workflowAttemptNumber: 1,
        timestamp: 0,
        duration: 1,
        totalSteps: 0,
      });
      await backend.cancelRun("run-e");
      const ids = async (o: Parameters<typeof backend.listRuns>[0]) => (await backend.listRuns(o)).map((r) => r.runId);
      expect(await ids({})).toEqual(["run-e", "run-d", "run-c", "run-b", "run-a"]);
      expect(await ids({ workflowSlug: WF })).toEqual(["run-e", "run-d", "run-b", "run-a"]);
      expect(await ids({ status: ["pending"] })).toEqual(["run-c", "run-a"]);
      expect(await ids({ status: ["running", "completed"] })).toEqual(["run-d", "run-b"]);
      expect(await ids({ status: ["cancelled", "pending"], workflowSlug: WF })).toEqual(["run-e", "run-a"]);
      expect(await ids({ tags: ["red"] })).toEqual(["run-c", "run-b", "run-a"]);
      expect(await ids({ tags: ["red", "big"] })).toEqual(["run-c", "run-a"]);
      expect(await ids({ tags: ["red", "big"], workflowSlug: WF })).toEqual(["run-a"]);
      expect(await ids({ tags: ["nope"] })).toEqual([]);
      expect(await ids({ limit: 2 })).toEqual(["run-e", "run-d"]);
      expect(await ids({ limit: 1, status: ["pending"] })).toEqual(["run-c"]);
      expect(await ids({ limit: 0 })).toEqual([]);
      expect(await ids({ status: ["failed"] })).toEqual([]);
      await expectCode(backend.listRuns({ limit: -2 }), "INVALID_ARGUMENT");
      await expectCode(backend.listRuns({ status: ["nonsense" as never] }), "INVALID_ARGUMENT");
      expect((await backend.listRunIds(WF)).sort()).toEqual(["run-a", "run-b", "run-d", "run-e"]);
      expect(await backend.listRunIds("wf-none")).toEqual([]);
    });

    it("pages with a cursor (before: the last run of the previous page) and filters by createdAfterUs, with every filter", async () => {
      const { backend, clock } = t;
      const all: string[] = [];
      for (let i = 0; i < 25; i++) {
        // Pairs of runs share a createdAt, so the cursor must break ties by runId as the listing does.
        if (i % 2 === 0) clock.advanceMs(1);
        const runId = `run-${String(i).padStart(2, "0")}`;
        await backend.submitRun({ workflowSlug: i % 3 === 0 ? "wf-other" : WF, runId, tags: i % 2 ? ["odd"] : [] });
        all.push(runId);
      }
      await backend.cancelRun("run-04");
      await backend.cancelRun("run-05");
      const full = await backend.listRuns();
      const pages = async (o: Parameters<typeof backend.listRuns>[0]) => {
        const seen: string[] = [];
        let before: { createdAtUs: number; runId: string } | undefined;
        for (;;) {
          const page = await backend.listRuns({ ...o, limit: 4, ...(before ? { before } : {}) });
          seen.push(...page.map((r) => r.runId));
          const last = page[page.length - 1];
          // A cursor that is ignored would repeat the first page: stop rather than loop.
          if (page.length < 4 || !last || seen.length > 100) return seen;
          before = { createdAtUs: last.createdAtUs, runId: last.runId };
        }
      };
      expect(await pages({})).toEqual(full.map((r) => r.runId));
      for (const o of [
        { workflowSlug: WF },
        { status: ["pending" as const] },
        { status: ["cancelled" as const, "pending" as const] },
        { tags: ["odd"] },
      ]) {
        expect(await pages(o), JSON.stringify(o)).toEqual((await backend.listRuns(o)).map((r) => r.runId));
      }
      const cut = full[10]!.createdAtUs;
      expect((await backend.listRuns({ createdAfterUs: cut })).map((r) => r.runId)).toEqual(
        full.filter((r) => r.createdAtUs >= cut).map((r) => r.runId),
      );
      expect(
        (
          await backend.listRuns({
            createdAfterUs: cut,
            before: { createdAtUs: full[3]!.createdAtUs, runId: full[3]!.runId },
          })
        ).map((r) => r.runId),
      ).toEqual(
        full
          .slice(4)
          .filter((r) => r.createdAtUs >= cut)
          .map((r) => r.runId),
      );
      await expectCode(backend.listRuns({ before: { createdAtUs: -1, runId: "run-01" } }), "INVALID_ARGUMENT");
      await expectCode(backend.listRuns({ before: { createdAtUs: 1, runId: "../x" } }), "INVALID_IDENTIFIER");
      await expectCode(backend.listRuns({ createdAfterUs: Number.NaN }), "INVALID_ARGUMENT");
      expect(all).toHaveLength(25);
    });

    it("breaks createdAt ties by runId descending", async () => {
      const { backend } = t;
      for (const id of ["run-m", "run-z", "run-a"]) await backend.submitRun({ workflowSlug: WF, runId: id });
      expect((await backend.listRuns()).map((r) => r.runId)).toEqual(["run-z", "run-m", "run-a"]);
      expect((await backend.listRuns({ limit: 2 })).map((r) => r.runId)).toEqual(["run-z", "run-m"]);
    });
  });

  describe("run lookups", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, "wf-b"] });

    it("getRun by id alone, runExists per workflow, listActiveWorkflows only with live runs", async () => {
      const { backend } = t;
      expect(await backend.listActiveWorkflows()).toEqual([]);
      const a = await submit(backend, { runId: "run-a" });
      const b = await submit(backend, { runId: "run-b", workflowSlug: "wf-b" });
      expect((await backend.getRun(b))?.workflowSlug).toBe("wf-b");
      expect(await backend.getRun("run-none")).toBeNull();
      expect(await backend.runExists(WF, a)).toBe(true);
      expect(await backend.runExists("wf-b", a)).toBe(false);
      expect(await backend.runExists(WF, "run-none")).toBe(false);
      expect((await backend.listActiveWorkflows()).sort()).toEqual([WF, "wf-b"].sort());
      await backend.cancelRun(b);
      expect(await backend.listActiveWorkflows()).toEqual([WF]);
      await backend.startRun(WF, a, { workflowAttemptNumber: 1, hasInputSchema: false, hasInput: false });
      expect(await backend.listActiveWorkflows()).toEqual([WF]);
      await backend.saveWorkflowComplete(WF, a, null, {
        workflowAttemptNumber: 1,
        timestamp: 0,
        duration: 1,
        totalSteps: 0,
      });
      expect(await backend.listActiveWorkflows()).toEqual([]);
    });
  });
}
