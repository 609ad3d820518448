import { describe, expect, it } from "vitest";
import {
  CALL_OUTPUT_SUMMARY_CHARS,
  computeCallAnalytics,
  computeErrorFingerprints,
  computeUsageAnalytics,
  summarizeOutput,
  type AnalyticsOptions,
  type Backend,
  type CallInput,
} from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { T0_US, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, countEvents, failAndRetry, runWithSteps } from "./support/scenario.js";
import { WF_B, allEvents } from "./support/analytics-scenario.js";

/** A call made now by attempt `attemptNumber`, lasting `durationUs`. */
function call(
  b: Backend,
  attemptNumber: number,
  tool: string,
  operation: string,
  durationUs: number,
  extra: Partial<CallInput> = {},
): CallInput {
  return {
    attemptNumber,
    tool,
    operation,
    startedAtUs: b.clock.nowUs() - durationUs,
    durationUs,
    outcome: "ok",
    ...extra,
  };
}

/** Calls (StepCall events): recorded per attempt, listed per step, aggregated per tool and operation and per model. */
export function callTests(h: ConformanceHarness): void {
  describe("calls and AI usage", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF, WF_B] });

    it("records each attempt's calls under that attempt, fingerprints failures, keeps a bounded summary and leaves the step's status alone", async () => {
      const { backend: b, clock } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s", "other"]);
      const a1 = await claim(b, ref!);
      clock.advanceMs(5);
      const big = summarizeOutput({ rows: "x".repeat(5000) });
      const error = {
        name: "HttpError",
        message: "GET /charges returned 503",
        stack: "HttpError: GET /charges returned 503\n    at fetch (/app/stripe.js:10:5)",
      };
      const saved = await b.saveStepCalls(WF, runId, "s", [
        call(b, a1, "stripe_api", "GET /charges", 2000, big),
        call(b, a1, "stripe_api", "GET /charges", 3000, { outcome: "error", error }),
        call(b, a1, "openai", "chat.completions", 9000, {
          usage: { model: "gpt-4o", inputTokens: 120, outputTokens: 30, costUsd: 0.0012 },
        }),
      ]);
      expect(saved).toHaveLength(3);
      await failAndRetry(b, ref!, a1);
      const a2 = await claim(b, ref!, "w2");
      clock.advanceMs(5);
      await b.saveStepCalls(WF, runId, "s", [call(b, a2, "stripe_api", "GET /charges", 1000)]);

      const calls = await b.loadStepCalls(WF, runId, "s");
      expect(calls.map((c) => [c.attemptNumber, c.tool, c.operation, c.outcome, c.durationUs])).toEqual([
        [1, "stripe_api", "GET /charges", "ok", 2000],
        [1, "stripe_api", "GET /charges", "error", 3000],
        [1, "openai", "chat.completions", "ok", 9000],
        [2, "stripe_api", "GET /charges", "ok", 1000],
      ]);
      expect(new Set(calls.map((c) => c.callId)).size).toBe(4);
      expect(calls[0]!.outputSummary!.length).toBe(CALL_OUTPUT_SUMMARY_CHARS);
      expect(calls[0]!.outputBytes).toBeGreaterThan(5000);
      expect(calls[1]!.error).toEqual(error);
      expect(calls[1]!.errorFingerprints).toEqual(computeErrorFingerprints(error));
      expect(calls[2]!.usage).toMatchObject({ model: "gpt-4o", inputTokens: 120, outputTokens: 30, costUsd: 0.0012 });
      expect(await b.loadStepCalls(WF, runId)).toHaveLength(4);
      expect(await b.loadStepCalls(WF, runId, "other")).toEqual([]);
      const step = await b.getStepState(WF, runId, "s");
      expect(step).toMatchObject({ status: "running", attemptNumber: 2 });
      expect(await b.getRunUsage(runId)).toEqual({
        runId,
        byModel: [{ model: "gpt-4o", calls: 1, inputTokens: 120, outputTokens: 30, costUsd: 0.0012 }],
        totals: { calls: 1, inputTokens: 120, outputTokens: 30, costUsd: 0.0012 },
      });
      await expectCode(b.getRunUsage("no-such-run"), "RUN_NOT_FOUND");
    });

    it("rejects bad calls with INVALID_ARGUMENT and writes none of the batch", async () => {
      const { backend: b } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(b, ["s"]);
      const a1 = await claim(b, ref!);
      const good = call(b, a1, "db", "SELECT", 10);
      const bad: Array<[string, Partial<CallInput> & Record<string, unknown>]> = [
        ["empty tool", { tool: "" }],
        ["blank tool", { tool: "   " }],
        ["no operation", { operation: undefined as unknown as string }],
        ["NUL in tool", { tool: "a\u0000b" }],
        ["attempt 0", { attemptNumber: 0 }],
        ["negative duration", { durationUs: -1 }],
        ["fractional start", { startedAtUs: 1.5 }],
        ["unknown outcome", { outcome: "maybe" as "ok" }],
        ["error outcome without error", { outcome: "error" }],
        ["negative tokens", { usage: { model: "m", inputTokens: -1, outputTokens: 0 } }],
        ["non-finite tokens", { usage: { model: "m", inputTokens: Number.NaN, outputTokens: 0 } }],
        [
          "infinite cost",
          { usage: { model: "m", inputTokens: 1, outputTokens: 0, costUsd: Number.POSITIVE_INFINITY } },
        ],
        ["usage without model", { usage: { inputTokens: 1, outputTokens: 1 } as never }],
        ["usage not an object", { usage: "lots" as never }],
      ];
      for (const [label, patch] of bad) {
        await expectCode(
          b.saveStepCalls(WF, runId, "s", [good, { ...good, ...patch } as CallInput]),
          "INVALID_ARGUMENT",
          label,
        );
      }
      await expectCode(b.saveStepCalls(WF, "../x", "s", [good]), "INVALID_IDENTIFIER");
      expect(await countEvents(b, { workflowSlug: WF, runId, stepId: "s" }, "StepCall")).toBe(0);
      // NUL in free text is replaced, not refused: a summary or an error message may hold anything.
      const [rec] = await b.saveStepCalls(WF, runId, "s", [
        { ...good, outcome: "error", error: { message: "bad\u0000byte" }, outputSummary: "a\u0000" },
      ]);
      expect(rec).toMatchObject({ error: { message: "bad\uFFFDbyte" }, outputSummary: "a\uFFFD" });
    });

    it("call and usage analytics equal the reference for every window, with the figures worked out by hand", async () => {
      const { backend: b, clock } = t;
      const r1 = await runWithSteps(b, ["fetch", "summarize"]);
      const r2 = await runWithSteps(b, ["fetch"], { workflowSlug: WF_B });
      const [f1, s1] = r1.steps;
      const [f2] = r2.steps;
      const a = await claim(b, f1!);
      const durations = [5000, 1000, 4000, 2000, 3000];
      for (const [i, d] of durations.entries()) {
        clock.advanceMs(1);
        await b.saveStepCalls(WF, r1.runId, "fetch", [
          call(b, a, "stripe_api", "GET /charges", d, i === 1 ? { outcome: "error", error: { message: "503" } } : {}),
        ]);
      }
      const mid = clock.nowUs();
      clock.advanceMs(10);
      const as = await claim(b, s1!);
      await b.saveStepCalls(WF, r1.runId, "summarize", [
        call(b, as, "openai", "chat", 700, {
          usage: { model: "gpt-4o", inputTokens: 1000, outputTokens: 200, costUsd: 0.1 },
        }),
        call(b, as, "openai", "chat", 900, {
          usage: { model: "gpt-4o", inputTokens: 500, outputTokens: 100, costUsd: 0.2 },
        }),
        call(b, as, "anthropic", "messages", 800, { usage: { model: "claude", inputTokens: 10, outputTokens: 5 } }),
      ]);
      clock.advanceMs(1);
      const a2 = await claim(b, f2!);
      await b.saveStepCalls(WF_B, r2.runId, "fetch", [
        call(b, a2, "stripe_api", "GET /charges", 100),
        call(b, a2, "openai", "chat", 50, {
          usage: { model: "gpt-4o", inputTokens: 1, outputTokens: 1, costUsd: 0.000_000_4 },
        }),
      ]);

      const calls = await b.getCallAnalytics({ workflowSlug: WF });
      expect(calls.calls.find((c) => c.tool === "stripe_api")).toEqual({
        tool: "stripe_api",
        operation: "GET /charges",
        count: 5,
        errorCount: 1,
        errorRate: 20,
        p50Us: 3000,
        p95Us: 5000,
        maxUs: 5000,
      });
      expect(calls.calls.map((c) => `${c.tool} ${c.operation}`)).toEqual([
        "anthropic messages",
        "openai chat",
        "stripe_api GET /charges",
      ]);
      const usage = await b.getUsageAnalytics();
      expect(usage.usage).toEqual(
        [
          { workflowSlug: WF_B, model: "gpt-4o", calls: 1, inputTokens: 1, outputTokens: 1, costUsd: 0 },
          { workflowSlug: WF, model: "claude", calls: 1, inputTokens: 10, outputTokens: 5, costUsd: 0 },
          { workflowSlug: WF, model: "gpt-4o", calls: 2, inputTokens: 1500, outputTokens: 300, costUsd: 0.3 },
        ].sort((x, y) => (x.workflowSlug < y.workflowSlug ? -1 : x.workflowSlug > y.workflowSlug ? 1 : 0)),
      );
      expect(usage.totals).toEqual({ calls: 4, inputTokens: 1511, outputTokens: 306, costUsd: 0.3 });

      const events = await allEvents(b);
      const now = clock.nowUs();
      const variants: Array<[string, AnalyticsOptions]> = [
        ["default window", {}],
        ["workflow", { workflowSlug: WF }],
        ["other workflow", { workflowSlug: WF_B }],
        ["unknown workflow", { workflowSlug: "wf-none" }],
        ["step", { stepId: "summarize" }],
        ["runs", { runIds: [r2.runId] }],
        ["no runs", { runIds: [] }],
        ["up to mid", { startUs: T0_US, endUs: mid }],
        ["after mid", { startUs: mid + 1, endUs: now }],
        ["before everything", { startUs: 0, endUs: T0_US - 1 }],
      ];
      for (const [label, o] of variants) {
        expect(await b.getCallAnalytics(o), `calls ${label}`).toEqual(computeCallAnalytics(events, o, now));
        expect(await b.getUsageAnalytics(o), `usage ${label}`).toEqual(computeUsageAnalytics(events, o, now));
      }
      await expectCode(b.getCallAnalytics({ startUs: 10, endUs: 5 }), "INVALID_ARGUMENT");
    });
  });
}
