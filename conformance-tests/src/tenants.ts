import { describe, expect, it } from "vitest";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, countEvents, schedule } from "./support/scenario.js";
import { WF_B } from "./support/analytics-scenario.js";

/** Tenants: tenantId stored on the run, listRuns filtered by it, and `forTenant` views that never see another tenant's runs. */
export function tenantTests(h: ConformanceHarness): void {
  describe("tenants", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, WF_B] });

    it("stores the submitted tenantId on the run; a tenant view stamps its own", async () => {
      const { backend: b } = t;
      const { runId: direct } = await b.submitRun({ workflowSlug: WF, tenantId: "acme" });
      const { runId: viaView } = await b.forTenant("globex").submitRun({ workflowSlug: WF });
      const [ok, bad] = await b
        .forTenant("acme")
        .submitRuns([{ workflowSlug: WF_B }, { workflowSlug: WF, tenantId: "globex" }]);
      const { runId: none } = await b.submitRun({ workflowSlug: WF });
      expect((await b.getRun(direct))?.tenantId).toBe("acme");
      expect((await b.getRun(viaView))?.tenantId).toBe("globex");
      expect(ok).toMatchObject({ ok: true, isNew: true });
      expect(bad).toMatchObject({ ok: false });
      expect(bad!.ok ? null : bad!.error.code).toBe("INVALID_ARGUMENT");
      expect((await b.getRun(ok!.ok ? ok!.runId : ""))?.tenantId).toBe("acme");
      expect((await b.getRun(none))?.tenantId).toBeUndefined();
      expect(await b.listRuns()).toHaveLength(4);
    });

    it("lists one tenant's runs newest first, with the other filters and cursor paging", async () => {
      const { backend: b, clock } = t;
      const acme: string[] = [];
      for (let i = 0; i < 5; i++) {
        acme.push(
          (await b.submitRun({ workflowSlug: i % 2 === 0 ? WF : WF_B, tenantId: "acme", tags: i < 2 ? ["old"] : [] }))
            .runId,
        );
        await b.submitRun({ workflowSlug: WF, tenantId: "globex" });
        await b.submitRun({ workflowSlug: WF });
        clock.advanceMs(1);
      }
      await b.cancelRun(acme[1]!);
      const newest = [...acme].reverse();
      expect((await b.listRuns({ tenantId: "acme" })).map((r) => r.runId)).toEqual(newest);
      expect((await b.forTenant("acme").listRuns()).map((r) => r.runId)).toEqual(newest);
      expect((await b.listRuns({ tenantId: "acme", workflowSlug: WF })).map((r) => r.runId)).toEqual([
        acme[4],
        acme[2],
        acme[0],
      ]);
      expect((await b.listRuns({ tenantId: "acme", status: ["cancelled"] })).map((r) => r.runId)).toEqual([acme[1]]);
      expect((await b.listRuns({ tenantId: "acme", status: ["pending", "cancelled"] })).map((r) => r.runId)).toEqual(
        newest,
      );
      expect((await b.listRuns({ tenantId: "acme", tags: ["old"] })).map((r) => r.runId)).toEqual([acme[1], acme[0]]);
      const page1 = await b.listRuns({ tenantId: "acme", limit: 2 });
      const last = page1[page1.length - 1]!;
      const page2 = await b
        .forTenant("acme")
        .listRuns({ limit: 2, before: { createdAtUs: last.createdAtUs, runId: last.runId } });
      expect([...page1, ...page2].map((r) => r.runId)).toEqual(newest.slice(0, 4));
      expect(await b.listRuns({ tenantId: "globex" })).toHaveLength(5);
      expect(await b.listRuns({ tenantId: "initech" })).toEqual([]);
      expect(await b.listRuns()).toHaveLength(15);
    });

    it("reads a run of another tenant (or of no tenant) as not found on every read path", async () => {
      const { backend: b } = t;
      const acme = b.forTenant("acme");
      const globex = b.forTenant("globex");
      const { runId } = await acme.submitRun({ workflowSlug: WF, input: { secret: 1 } });
      const [ref] = await schedule(b, WF, runId, ["s"]);
      const attempt = await claim(b, ref!);
      await b.saveStepCalls(WF, runId, "s", [
        {
          attemptNumber: attempt,
          tool: "openai",
          operation: "chat",
          startedAtUs: b.clock.nowUs(),
          durationUs: 10,
          outcome: "ok",
          usage: { model: "m", inputTokens: 3, outputTokens: 4 },
        },
      ]);
      await b.saveStepLinks(WF, runId, "s", [
        { attemptNumber: attempt, linkType: "output", entityType: "invoice", entityId: "inv_1" },
      ]);
      const { runId: untenanted } = await b.submitRun({ workflowSlug: WF });

      // The owner sees everything.
      expect((await acme.getRun(runId))?.runId).toBe(runId);
      expect((await acme.loadRun(WF, runId)).map((s) => s.stepId)).toEqual(["s"]);
      expect((await acme.loadEvents(WF, runId)).length).toBeGreaterThan(0);
      expect(await acme.getStepState(WF, runId, "s")).not.toBeNull();
      expect(await acme.loadStepCalls(WF, runId)).toHaveLength(1);
      expect(await acme.getStepLinks(WF, runId, "s")).toHaveLength(1);
      expect((await acme.getRunUsage(runId)).totals).toMatchObject({ inputTokens: 3, outputTokens: 4 });

      // Another tenant sees nothing, exactly as for a run that does not exist.
      for (const [view, id] of [
        [globex, runId],
        [acme, untenanted],
        [globex, "run-unknown"],
      ] as const) {
        expect(await view.getRun(id)).toBeNull();
        expect(await view.loadRun(WF, id)).toEqual([]);
        expect(await view.loadEvents(WF, id)).toEqual([]);
        expect(await view.loadEvents(WF, id, { category: "step", stepId: "s" })).toEqual([]);
        expect(await view.getStepState(WF, id, "s")).toBeNull();
        expect(await view.loadStepCalls(WF, id)).toEqual([]);
        expect(await view.getStepLinks(WF, id, "s")).toEqual([]);
        await expectCode(view.getRunUsage(id), "RUN_NOT_FOUND");
      }
      expect(await globex.listRuns()).toEqual([]);
      expect((await acme.listRuns()).map((r) => r.runId)).toEqual([runId]);
    });

    it("refuses to change another tenant's run: cancel, retry, pause, resume and signal are RUN_NOT_FOUND and write nothing", async () => {
      const { backend: b } = t;
      const { runId } = await b.forTenant("acme").submitRun({ workflowSlug: WF });
      const globex = b.forTenant("globex");
      const before = (await b.loadEvents(WF, runId)).length;
      await expectCode(globex.cancelRun(runId, "not yours"), "RUN_NOT_FOUND");
      await expectCode(globex.retryRun(runId), "RUN_NOT_FOUND");
      await expectCode(globex.pauseRun(runId), "RUN_NOT_FOUND");
      await expectCode(globex.resumeRun(runId), "RUN_NOT_FOUND");
      await expectCode(globex.signal(runId, "go", 1), "RUN_NOT_FOUND");
      expect((await b.loadEvents(WF, runId)).length).toBe(before);
      expect((await b.getRun(runId))?.status).toBe("pending");

      // The owner's view changes it (and retry of a run that did not fail is the Backend's own refusal).
      await expectCode(b.forTenant("acme").retryRun(runId), "RUN_NOT_RETRYABLE");
      await b.forTenant("acme").cancelRun(runId, "mine");
      expect(await b.getRun(runId)).toMatchObject({ status: "cancelled", cancelReason: "mine" });
      expect(await countEvents(b, { workflowSlug: WF, runId }, "WorkflowCancelled")).toBe(1);
    });

    it("scopes the windowed analytics of a tenant view to the tenant's runs", async () => {
      const { backend: b, clock } = t;
      const add = async (tenantId: string | undefined, fetched: number, tokens: number) => {
        const { runId } = await b.submitRun({ workflowSlug: WF, ...(tenantId ? { tenantId } : {}) });
        const [ref] = await schedule(b, WF, runId, ["s"]);
        const attempt = await claim(b, ref!);
        await b.incrementRunCounters(WF, runId, "s", attempt, { fetched });
        await b.saveStepCalls(WF, runId, "s", [
          {
            attemptNumber: attempt,
            tool: "openai",
            operation: "chat",
            startedAtUs: b.clock.nowUs(),
            durationUs: 10,
            outcome: "ok",
            usage: { model: "m", inputTokens: tokens, outputTokens: 1 },
          },
        ]);
        return runId;
      };
      const a1 = await add("acme", 5, 3);
      await add("acme", 6, 4);
      const g = await add("globex", 100, 50);
      await add(undefined, 1000, 500);
      clock.advanceMs(1);
      const acme = b.forTenant("acme");
      expect((await acme.getCounterAnalytics()).counters).toEqual([
        { workflowSlug: WF, counter: "fetched", total: 11, runs: 2 },
      ]);
      expect((await b.getCounterAnalytics()).counters).toEqual([
        { workflowSlug: WF, counter: "fetched", total: 1111, runs: 4 },
      ]);
      expect((await acme.getUsageAnalytics()).totals).toMatchObject({ calls: 2, inputTokens: 7 });
      expect((await b.forTenant("globex").getCallAnalytics()).calls.map((c) => [c.tool, c.count])).toEqual([
        ["openai", 1],
      ]);
      // The caller's own runIds are intersected with the tenant's: another tenant's run adds nothing.
      expect((await acme.getUsageAnalytics({ runIds: [a1, g] })).totals).toMatchObject({ calls: 1, inputTokens: 3 });
      expect((await b.forTenant("initech").getUsageAnalytics()).totals).toMatchObject({ calls: 0, inputTokens: 0 });
      await expectCode(acme.getSuccessRate({ startUs: 10, endUs: 5 }), "INVALID_ARGUMENT");
    });

    it("scopes idempotency keys per tenant: the same key gives each tenant its own run", async () => {
      const { backend: b } = t;
      const a1 = await b.forTenant("acme").submitRun({ workflowSlug: WF, idempotencyKey: "order-1", input: { n: 1 } });
      const a2 = await b.forTenant("acme").submitRun({ workflowSlug: WF, idempotencyKey: "order-1", input: { n: 1 } });
      const g1 = await b
        .forTenant("globex")
        .submitRun({ workflowSlug: WF, idempotencyKey: "order-1", input: { n: 2 } });
      expect(a2).toEqual({ runId: a1.runId, isNew: false });
      expect(g1.isNew).toBe(true);
      expect(g1.runId).not.toBe(a1.runId);
      expect((await b.getRun(g1.runId))?.tenantId).toBe("globex");
    });

    it("rejects a tenant id that is not a valid identifier with INVALID_ARGUMENT and writes nothing", async () => {
      const { backend: b } = t;
      for (const bad of ["", "has space", "a/b", "..", "x".repeat(129), "tab\t", "é", 42, null]) {
        const label = JSON.stringify(bad);
        await expectCode(b.submitRun({ workflowSlug: WF, tenantId: bad as string }), "INVALID_ARGUMENT", label);
        await expectCode(b.listRuns({ tenantId: bad as string }), "INVALID_ARGUMENT", label);
        await expectCode(() => b.forTenant(bad as string), "INVALID_ARGUMENT", label);
      }
      const [outcome] = await b.submitRuns([{ workflowSlug: WF, tenantId: "a b" }]);
      expect(outcome!.ok ? null : outcome!.error.code).toBe("INVALID_ARGUMENT");
      await expectCode(b.forTenant("acme").submitRun({ workflowSlug: WF, tenantId: "globex" }), "INVALID_ARGUMENT");
      await expectCode(b.forTenant("acme").listRuns({ tenantId: "globex" }), "INVALID_ARGUMENT");
      expect(await b.listRuns()).toEqual([]);
      expect((await b.submitRun({ workflowSlug: WF, tenantId: "A-z_0.9" })).isNew).toBe(true);
    });
  });
}
