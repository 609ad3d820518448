/**
 * `ctx.step` (nested steps): on its own over a recording StepIO (records, nesting, what belongs to the child, replay,
 * repeated and bad names), and through a real worker on a real SQLite file (a retry replays the finished child).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { CallInput, ChildStepInput, SavedChildStep } from "@cairn/backend-interface";
import { makeStepContext, type StepIO } from "../src/step-context.js";
import { openBackend, startWorker, submit, waitForRun } from "../src/index.js";
import { StepWaitRequest } from "../src/step-waits.js";

function context(children: SavedChildStep[] = []) {
  const calls: Array<Omit<CallInput, "attemptNumber">> = [];
  const records: Array<Omit<ChildStepInput, "attemptNumber">> = [];
  const increments: Array<[Record<string, number>, string | undefined]> = [];
  const links: Array<[unknown, string | undefined]> = [];
  const checkpoints: string[] = [];
  const io: StepIO = {
    log: () => {},
    progress: () => {},
    saveCheckpoint: async (name) => {
      checkpoints.push(name);
    },
    saveCheckpointFailed: async () => {},
    call: (c) => calls.push(c),
    increment: (c, child) => increments.push([c, child]),
    link: (l, child) => links.push([l, child]),
    child: async (c) => {
      records.push(c);
    },
    nowUs: () => 5_000_000,
  };
  const ctx = makeStepContext({
    workflowSlug: "w",
    runId: "r",
    stepId: "s",
    attempt: 2,
    input: {},
    deps: {},
    signal: new AbortController().signal,
    checkpoints: [],
    children,
    io,
  });
  return { ctx, calls, records, increments, links, checkpoints };
}

describe("ctx.step", () => {
  it("records each child when it ends (nested, ok with its result, error with its error); calls, links, counts and checkpoints belong to it", async () => {
    const { ctx, calls, records, increments, links, checkpoints } = context();
    expect(ctx.childId).toBeUndefined();
    const out = await ctx.step("load", async (load) => {
      expect(load.childId).toBe("load");
      load.increment({ rows: 2 });
      load.link({ linkType: "input", entityType: "table", entityId: "t1" });
      await load.checkpoint("cursor", () => 7);
      return load.step("parse", (parse) => parse.call({ tool: "db", operation: "SELECT" }, () => [1, 2]));
    });
    expect(out).toEqual([1, 2]);
    const boom = new TypeError("bad row");
    await expect(
      ctx.step("publish", () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    ctx.increment({ rows: 1 });
    expect(records.map((r) => [r.childId, r.status, r.output, r.error?.message])).toEqual([
      ["load/parse", "ok", "[1,2]", undefined],
      ["load", "ok", "[1,2]", undefined],
      ["publish", "error", undefined, "bad row"],
    ]);
    expect(records[0]).toMatchObject({ startedAtUs: 5_000_000, durationUs: expect.any(Number) });
    expect(calls.map((c) => [c.operation, c.childId])).toEqual([["SELECT", "load/parse"]]);
    expect(increments).toEqual([
      [{ rows: 2 }, "load"],
      [{ rows: 1 }, undefined],
    ]);
    expect(links.map(([, child]) => child)).toEqual(["load"]);
    expect(checkpoints).toEqual(["load:cursor"]);
  });

  it("replays a child an earlier attempt finished (its function does not run, nothing is recorded); an unfinished one runs", async () => {
    const { ctx, records } = context([
      { childId: "load", attemptNumber: 1, output: '{"rows":3}' },
      { childId: "other/x", attemptNumber: 1, output: "1" },
    ]);
    let ran = 0;
    expect(
      await ctx.step("load", () => {
        ran++;
        return { rows: 0 };
      }),
    ).toEqual({ rows: 3 });
    expect(
      await ctx.step("publish", () => {
        ran++;
        return "done";
      }),
    ).toBe("done");
    expect(ran).toBe(1);
    expect(records.map((r) => r.childId)).toEqual(["publish"]);
  });

  it("refuses a name used twice under one parent in an attempt, and bad names, before running anything", async () => {
    const { ctx, records } = context([{ childId: "load", attemptNumber: 1, output: "1" }]);
    let ran = 0;
    await ctx.step("load", () => ran++);
    await ctx.step("page-1", async (p) => {
      await p.step("x", () => ran++);
      await expect(p.step("x", () => ran++)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    });
    await ctx.step("page-2", (p) => p.step("x", () => ran++)); // the same name under another parent is another child
    for (const name of ["load", "page-1", "", "  ", "a/b", "x".repeat(201), "nul\u0000", 42, undefined]) {
      await expect(ctx.step(name as string, () => ran++)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    await expect(ctx.step("nofn", undefined as never)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(ran).toBe(2);
    expect(records.map((r) => r.childId)).toEqual(["page-1/x", "page-1", "page-2/x", "page-2"]);
  });

  it("a wait inside a child ends the attempt without failing the child (it runs again on the wake attempt)", async () => {
    const { ctx, records } = context();
    await expect(ctx.step("sleepy", (c) => c.sleep("nap", 1000))).rejects.toBeInstanceOf(StepWaitRequest);
    expect(records).toEqual([]);
  });
});

describe("ctx.step through a real worker on SQLite", () => {
  it("a retried attempt replays the finished child and reruns the failed one; counts of the replayed child stand", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-child-steps-"));
    const backend = await openBackend(`sqlite:${join(dir, "cairn.db")}`);
    const worker = await startWorker({
      backend,
      workflowsDir: fileURLToPath(new URL("./fixtures/tracking", import.meta.url)),
      pollMs: 20,
      heartbeatMs: 200,
      maintenanceMs: 100,
    });
    try {
      const { runId } = await submit(backend, { workflow: "tracked", input: { pages: 1, failFirstAttempt: true } });
      expect((await waitForRun(backend, runId, { pollMs: 20 })).run.status).toBe("completed");
      const children = await backend.loadStepChildren("tracked", runId, "enrich");
      expect(children.map((c) => `${c.childId}#${c.attemptNumber} ${c.status}`)).toEqual([
        "load/parse#1 ok",
        "load#1 ok",
        "publish#1 error",
        "publish#2 ok",
      ]);
      const step = await backend.getStepState("tracked", runId, "enrich");
      expect(JSON.parse(step!.output!)).toMatchObject({ loaded: { ranInAttempt: 1 } });
      expect((await backend.getRun(runId))?.counters?.enriched).toBe(3);
    } finally {
      await worker.stop();
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
