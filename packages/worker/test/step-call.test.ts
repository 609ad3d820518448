/** `ctx.call` on its own (the step context over a recording StepIO): timing, outcome, summary, usage, and bad input. */
import { describe, expect, it } from "vitest";
import { CALL_OUTPUT_SUMMARY_CHARS, type CallInput } from "@cairn/backend-interface";
import { makeStepContext, type StepIO } from "../src/step-context.js";

function context() {
  const calls: Array<Omit<CallInput, "attemptNumber">> = [];
  const increments: Array<Record<string, number>> = [];
  const links: unknown[] = [];
  let now = 1_000_000;
  const io: StepIO = {
    log: () => {},
    progress: () => {},
    saveCheckpoint: async () => {},
    saveCheckpointFailed: async () => {},
    call: (c) => calls.push(c),
    increment: (c) => increments.push(c),
    link: (l) => links.push(l),
    child: async () => {},
    nowUs: () => (now += 10),
  };
  const ctx = makeStepContext({
    workflowSlug: "w",
    runId: "r",
    stepId: "s",
    attempt: 1,
    input: {},
    deps: {},
    signal: new AbortController().signal,
    checkpoints: [],
    io,
  });
  return { ctx, calls, increments, links };
}

describe("ctx.call", () => {
  it("returns the result and records tool, operation, start from the io's clock, outcome, a bounded summary and usage read from the result", async () => {
    const { ctx, calls } = context();
    const result = await ctx.call(
      {
        tool: "llm",
        operation: "chat",
        usage: (r: { u: number }) => ({ model: "m", inputTokens: r.u, outputTokens: 2 }),
      },
      async () => ({ u: 7, text: "y".repeat(2000) }),
    );
    expect(result.u).toBe(7);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      tool: "llm",
      operation: "chat",
      outcome: "ok",
      startedAtUs: 1_000_010,
      usage: { model: "m", inputTokens: 7, outputTokens: 2 },
    });
    expect(calls[0]!.outputSummary!.length).toBe(CALL_OUTPUT_SUMMARY_CHARS);
    expect(calls[0]!.durationUs).toBeGreaterThanOrEqual(0);
  });

  it("records a failure with its error and rethrows the original error", async () => {
    const { ctx, calls } = context();
    const boom = new TypeError("nope");
    await expect(
      ctx.call({ tool: "db", operation: "INSERT" }, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(calls[0]).toMatchObject({ outcome: "error", error: { name: "TypeError", message: "nope" } });
    expect(calls[0]!.outputSummary).toBeUndefined();
  });

  it("refuses a call without tool or operation, or with invalid usage, before running it, and records nothing", async () => {
    const { ctx, calls } = context();
    let ran = 0;
    const fn = () => {
      ran++;
      return 1;
    };
    for (const spec of [
      { tool: "", operation: "x" },
      { tool: "t", operation: " " },
      { operation: "x" },
      null,
      { tool: "t", operation: "o", usage: { model: "m", inputTokens: -1, outputTokens: 0 } },
      { tool: "t", operation: "o", usage: { model: "m", inputTokens: 1, outputTokens: Number.NaN } },
    ]) {
      await expect(ctx.call(spec as never, fn)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(ran).toBe(0);
    // Usage read from the result is checked once the result is there: the call is not recorded.
    await expect(
      ctx.call({ tool: "t", operation: "o", usage: () => ({ model: "", inputTokens: 1, outputTokens: 1 }) }, fn),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(calls).toEqual([]);
  });
});

describe("ctx.increment", () => {
  it("passes valid counters on (zero amounts dropped) and refuses bad ones with INVALID_ARGUMENT, passing nothing", () => {
    const { ctx, increments } = context();
    ctx.increment({ fetched: 50, inserted: 0 });
    ctx.increment({ skipped: 0 });
    for (const bad of [{ fetched: -1 }, { fetched: 0.5 }, { fetched: Number.NaN }, {}, { "bad name": 1 }, null, [3]]) {
      expect(() => ctx.increment(bad as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    expect(increments).toEqual([{ fetched: 50 }]);
  });
});

describe("ctx.link", () => {
  it("passes a valid link on and refuses one without an entity type or id with INVALID_ARGUMENT", () => {
    const { ctx, links } = context();
    ctx.link({ linkType: "output", entityType: "transaction", entityId: "tx_123", externalId: "ch_1" });
    for (const bad of [
      { linkType: "output", entityType: "transaction" },
      { linkType: "output", entityId: "x" },
      { linkType: "", entityType: "t", entityId: "x" },
      { linkType: "o", entityType: "a:b", entityId: "x" },
      null,
    ]) {
      expect(() => ctx.link(bad as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    expect(links).toEqual([{ linkType: "output", entityType: "transaction", entityId: "tx_123", externalId: "ch_1" }]);
  });
});
