import { describe, expect, it } from "vitest";
import { computeCounterAnalytics, type AnalyticsOptions } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { T0_US, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { WF, claim, countEvents, failAndRetry, runWithSteps, submit } from "./support/scenario.js";
import { WF_B } from "./support/analytics-scenario.js";

/** Run counters (RunCountersIncremented): parallel steps add up, a retried attempt's counts are replaced, analytics sum per workflow. */
export function counterTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);
  describe("run counters", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, WF_B] });

    it("adds up across steps and within an attempt; a later attempt replaces the earlier one's counts; a stale attempt's are ignored", async () => {
      const { backend: b } = t;
      const {
        runId,
        steps: [a, c],
      } = await runWithSteps(b, ["a", "c"]);
      const a1 = await claim(b, a!);
      const c1 = await claim(b, c!);
      expect(await b.incrementRunCounters(WF, runId, "a", a1, { fetched: 50, inserted: 30 })).toEqual({
        fetched: 50,
        inserted: 30,
      });
      await b.incrementRunCounters(WF, runId, "a", a1, { fetched: 50 });
      await b.incrementRunCounters(WF, runId, "c", c1, { fetched: 7, updated: 2 });
      expect((await b.getRun(runId))?.counters).toEqual({ fetched: 107, inserted: 30, updated: 2 });
      await failAndRetry(b, a!, a1);
      // Until attempt 2 counts, attempt 1's counts stand; its first increment replaces them.
      expect((await b.getRun(runId))?.counters).toEqual({ fetched: 107, inserted: 30, updated: 2 });
      const a2 = await claim(b, a!, "w2");
      await b.incrementRunCounters(WF, runId, "a", a2, { fetched: 100 });
      expect((await b.getRun(runId))?.counters).toEqual({ fetched: 107, updated: 2 });
      await b.incrementRunCounters(WF, runId, "a", a1, { fetched: 1000, inserted: 1 }); // a zombie attempt 1
      const run = await b.getRun(runId);
      expect(run?.counters).toEqual({ fetched: 107, updated: 2 });
      expect((await b.listRuns({ workflowSlug: WF })).find((r) => r.runId === runId)?.counters).toEqual(run?.counters);
      expect(run?.status).toBe("pending"); // a hand-driven run: counting changes nothing else
    });

    it("rejects bad increments with typed errors and writes nothing; an ended run takes no more", async () => {
      const { backend: b } = t;
      const { runId } = await runWithSteps(b, ["a"]);
      for (const [label, counters] of [
        ["empty", {}],
        ["negative", { fetched: -1 }],
        ["fractional", { fetched: 1.5 }],
        ["NaN", { fetched: Number.NaN }],
        ["infinite", { fetched: Number.POSITIVE_INFINITY }],
        ["string amount", { fetched: "5" }],
        ["bad name", { "no spaces": 1 }],
        ["leading digit", { "1st": 1 }],
        ["array", [1]],
        ["null", null],
      ] as Array<[string, unknown]>) {
        await expectCode(b.incrementRunCounters(WF, runId, "a", 1, counters as never), "INVALID_ARGUMENT", label);
      }
      await expectCode(b.incrementRunCounters(WF, runId, "a", 0, { n: 1 }), "INVALID_ARGUMENT", "attempt 0");
      await expectCode(b.incrementRunCounters(WF, runId, "../a", 1, { n: 1 }), "INVALID_IDENTIFIER");
      await expectCode(b.incrementRunCounters(WF, "run-missing", "a", 1, { n: 1 }), "RUN_NOT_FOUND");
      expect(await countEvents(b, { workflowSlug: WF, runId }, "RunCountersIncremented")).toBe(0);
      expect((await b.getRun(runId))?.counters).toBeUndefined();
      await b.cancelRun(runId);
      await expectCode(b.incrementRunCounters(WF, runId, "a", 1, { n: 1 }), "RUN_TERMINAL");
      expect(await b.getRun("run-missing")).toBeNull();
    });

    it("counter analytics sum per workflow over the runs created in the window, equal to the reference", async () => {
      const { backend: b, clock } = t;
      const r1 = await submit(b);
      await b.incrementRunCounters(WF, r1, "s", 1, { fetched: 10, inserted: 4 });
      clock.advanceMs(10);
      const mid = clock.nowUs();
      const r2 = await submit(b);
      await b.incrementRunCounters(WF, r2, "s", 1, { fetched: 5 });
      const r3 = await submit(b, { workflowSlug: WF_B });
      await b.incrementRunCounters(WF_B, r3, "s", 1, { fetched: 1 });
      await submit(b); // no counters
      expect(await b.getCounterAnalytics()).toEqual({
        counters: [
          { workflowSlug: WF_B, counter: "fetched", total: 1, runs: 1 },
          { workflowSlug: WF, counter: "fetched", total: 15, runs: 2 },
          { workflowSlug: WF, counter: "inserted", total: 4, runs: 1 },
        ].sort((x, y) => (x.workflowSlug < y.workflowSlug ? -1 : 1)),
      });
      const runs = await b.listRuns();
      const now = clock.nowUs();
      for (const o of [
        {},
        { workflowSlug: WF },
        { startUs: mid, endUs: now },
        { startUs: T0_US, endUs: mid - 1 },
        { runIds: [r1, r3] },
        { runIds: [] },
      ] as AnalyticsOptions[]) {
        const w = {
          startUs: o.startUs ?? Math.max(0, (o.endUs ?? now) - 86_400_000_000),
          endUs: o.endUs ?? now,
          ...(o.workflowSlug ? { workflowSlug: o.workflowSlug } : {}),
          ...(o.runIds ? { runIds: o.runIds } : {}),
        };
        expect(await b.getCounterAnalytics(o), JSON.stringify(o)).toEqual(computeCounterAnalytics(runs, w));
      }
    });
  });

  describe.skipIf(!caps.multiProcess)("run counters: concurrent increments from 8 processes", () => {
    const t = useInstance(h, { workflows: [WF] });

    it("add up exactly", async () => {
      const { backend: b } = t;
      const { runId, steps } = await runWithSteps(
        b,
        Array.from({ length: 8 }, (_, i) => `s${i}`),
      );
      const attempts = await Promise.all(steps.map((s) => claim(b, s)));
      const startAtMs = Date.now() + 300;
      await withChildren(procs, t.instance.opener, 8, (group) =>
        group.round((i) => ({
          task: "increment",
          workflowSlug: WF,
          runId,
          stepId: `s${i}`,
          attemptNumber: attempts[i],
          counters: { fetched: 3, [`by${i}`]: 1 },
          count: 10,
          startAtMs,
        })),
      );
      const counters = (await b.getRun(runId))?.counters;
      expect(counters?.fetched).toBe(8 * 10 * 3);
      for (let i = 0; i < 8; i++) expect(counters?.[`by${i}`]).toBe(10);
    }, 60_000);
  });
}
