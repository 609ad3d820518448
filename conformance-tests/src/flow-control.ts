import { describe, expect, test } from "vitest";
import type { Backend, FlowControlInput, RunState } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete } from "./support/scenario.js";
import { eventTrail, workflowTrail } from "./support/dags.js";

/** Registers a one-step workflow ("s") whose version declares `flow`. */
export async function registerFlow(
  backend: Backend,
  flow: FlowControlInput,
  workflowSlug = WF,
  versionId = "v1",
): Promise<void> {
  const steps = [{ id: "s", name: "S" }];
  await backend.createWorkflowVersion({
    workflowSlug,
    versionId,
    contentHash: `hash-${versionId}`,
    steps,
    flow: flow as never,
  });
  await backend.registerWorkflow({ slug: workflowSlug, name: workflowSlug, versionId, steps });
}

/** Submits runs one after the other (the clock moving on between them, so their order is their creation order). */
async function submitAll(
  backend: Backend,
  inputs: unknown[],
  options: { priority?: number; concurrencyKey?: string } = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (const input of inputs) ids.push((await backend.submitRun({ workflowSlug: WF, input, ...options })).runId);
  return ids;
}

async function states(backend: Backend, ids: readonly string[]): Promise<RunState[]> {
  return Promise.all(ids.map(async (id) => (await backend.getRun(id))!));
}

async function statuses(backend: Backend, ids: readonly string[]): Promise<string[]> {
  return (await states(backend, ids)).map((r) => r.status);
}

/** Runs the single step of a running run to its end (the run completes). */
async function finish(backend: Backend, runId: string): Promise<void> {
  const ref = { workflowSlug: WF, runId, stepId: "s" };
  await complete(backend, ref, await claim(backend, ref));
}

/** Flow control decided by the store when runs start: concurrency, modes, rate limits, debounce. */
export function flowControlTests(h: ConformanceHarness, procs: ProcessPool): void {
  describe.skipIf(!resolveCapabilities(h).multiProcess)("flow control: real processes", () => {
    const t = useInstance(h);

    test("3 worker processes and 8 submitter processes: never more than `limit` runs of a key running; each submitter's runs of a key start in its order; every run starts once and completes", async (ctx) => {
      const { backend } = t;
      if (!backend.driver.capabilities.flowControl) ctx.skip();
      const limit = 1;
      await registerFlow(backend, { limit, key: "customer" });
      const keys = ["a", "b", "c"];
      const startAtMs = Date.now() + 1500;
      const untilMs = startAtMs + 30_000;
      const seen = { samples: 0, max: 0 };
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const running = await backend.listRuns({ workflowSlug: WF, status: ["running"], limit: 500 });
          const perKey = new Map<string, number>();
          for (const r of running) perKey.set(r.flowKey ?? "", (perKey.get(r.flowKey ?? "") ?? 0) + 1);
          seen.samples++;
          seen.max = Math.max(seen.max, ...perKey.values(), 0);
          await new Promise((r) => setTimeout(r, 3));
        }
      })();
      const results = await withChildren(procs, t.instance.opener, 11, (group) =>
        group.round<unknown>((i) =>
          i < 3
            ? { task: "drain", workflowSlug: WF, workerId: `w${i}`, startAtMs, untilMs, holdMs: 15, stopAfter: 64 }
            : {
                task: "submit-each",
                startAtMs,
                items: Array.from({ length: 8 }, (_, n) => ({
                  workflowSlug: WF,
                  input: { customer: keys[(n + i) % keys.length], n, by: i },
                })),
              },
        ),
      );
      sampling = false;
      await sampler;
      const submitted = (results.slice(3) as Array<Array<{ ok: boolean; runId?: string }>>).flat();
      expect(submitted.every((s) => s.ok)).toBe(true);
      expect(seen.samples).toBeGreaterThan(10);
      expect(seen.max, "runs of one key running at once").toBeLessThanOrEqual(limit);
      expect(seen.max).toBeGreaterThan(0);
      expect(
        (results.slice(0, 3) as number[]).reduce((a, b) => a + b, 0),
        "steps the worker processes completed",
      ).toBe(64);
      const startedAt = new Map<string, number>();
      for (const s of submitted) {
        const run = (await backend.getRun(s.runId!))!;
        expect(run.status, `${s.runId}: ${(await eventTrail(backend, s.runId!)).join(" ")}`).toBe("completed");
        expect(
          (await workflowTrail(backend, s.runId!)).filter((e) => e === "WorkflowStarted"),
          s.runId,
        ).toHaveLength(1);
        startedAt.set(s.runId!, run.startedAtUs!);
      }
      // FIFO within a key: a submitter's earlier run of a key was committed before its later one, so it starts first.
      for (const [i, mine] of (results.slice(3) as Array<Array<{ runId: string }>>).entries()) {
        for (const key of keys) {
          const starts = mine
            .filter((_, n) => keys[(n + i + 3) % keys.length] === key)
            .map((s) => startedAt.get(s.runId)!);
          expect(starts, `submitter ${i}, key ${key}`).toEqual([...starts].sort((a, b) => a - b));
        }
      }
    }, 120_000);
  });

  describe.skipIf(!resolveCapabilities(h).multiProcess)("flow control: real processes submitting at once", () => {
    const t = useInstance(h);

    test("8 submitter processes at one instant: singleton drop keeps one run, exclusive reject accepts one, a rate limit starts exactly its limit, a debounce starts one run with the newest input", async (ctx) => {
      const { backend } = t;
      if (!backend.driver.capabilities.flowControl) ctx.skip();
      const rules = {
        "wf-single": { mode: "singleton", onBusy: "drop" },
        "wf-excl": { mode: "exclusive", onBusy: "reject" },
        "wf-rate": { rateLimit: { limit: 3, periodMs: 60_000 } },
        "wf-debounce": { debounce: { periodMs: 400 } },
      } as const;
      for (const [slug, flow] of Object.entries(rules)) await registerFlow(backend, flow as FlowControlInput, slug);
      const startAtMs = Date.now() + 1500;
      const results = (await withChildren(procs, t.instance.opener, 8, (group) =>
        group.round<unknown>((i) => ({
          task: "submit-each",
          startAtMs,
          items: Object.keys(rules).map((slug) => ({ workflowSlug: slug, input: { by: i } })),
        })),
      )) as Array<Array<{ ok: boolean; runId?: string; code?: string }>>;
      const of = (k: number) => results.map((r) => r[k]!);
      const runs = async (slug: string) => backend.listRuns({ workflowSlug: slug, limit: 100 });

      const single = await runs("wf-single");
      expect(single).toHaveLength(8);
      expect(single.filter((r) => r.status !== "cancelled").map((r) => r.status)).toEqual(["running"]);
      for (const r of single.filter((x) => x.status === "cancelled")) expect(r.flow?.decision).toBe("dropped");

      const excl = of(1);
      expect(excl.filter((o) => o.ok)).toHaveLength(1);
      expect(excl.filter((o) => !o.ok).map((o) => o.code)).toEqual(Array(7).fill("FLOW_REJECTED"));
      expect((await runs("wf-excl")).map((r) => r.runId)).toEqual([excl.find((o) => o.ok)!.runId]);

      const rated = await runs("wf-rate");
      expect(rated.filter((r) => r.status === "running")).toHaveLength(3);
      const delayed = rated.filter((r) => r.status === "pending");
      expect(delayed).toHaveLength(5);
      for (const r of delayed) expect(r.flow?.decision).toBe("delayed");

      const newest = (await runs("wf-debounce")).reduce((a, b) =>
        b.createdAtUs > a.createdAtUs || (b.createdAtUs === a.createdAtUs && b.runId > a.runId) ? b : a,
      );
      await new Promise((r) => setTimeout(r, 500));
      await backend.startDueRuns();
      const debounced = await runs("wf-debounce");
      expect(debounced.filter((r) => r.status !== "cancelled").map((r) => [r.runId, r.status])).toEqual([
        [newest.runId, "running"],
      ]);
      for (const r of debounced.filter((x) => x.status === "cancelled")) expect(r.flow?.decision).toBe("superseded");
    }, 60_000);
  });

  describe("flow control: the store admits runs", () => {
    const t = useInstance(h, { manualClock: true });
    const tick = () => t.clock.advanceMs(1);
    /** Submits each input alone, the clock moving on `gapMs` after each (so creation order is submission order). */
    const submitSpaced = async (inputs: unknown[], gapMs = 1): Promise<string[]> => {
      const ids: string[] = [];
      for (const input of inputs) {
        ids.push(...(await submitAll(t.backend, [input])));
        t.clock.advanceMs(gapMs);
      }
      return ids;
    };
    const it = (name: string, body: () => Promise<void>) =>
      test(name, async (ctx) => {
        if (!t.backend.driver.capabilities.flowControl) ctx.skip();
        await body();
      });

    test("a driver without flow control refuses a version that declares it; bad declarations are refused by every driver", async () => {
      const { backend } = t;
      if (!backend.driver.capabilities.flowControl)
        await expectCode(registerFlow(backend, { limit: 1 }), "INVALID_ARGUMENT");
      await expectCode(registerFlow(backend, { mode: "singleton" }, WF, "v2"), "INVALID_ARGUMENT");
      await expectCode(registerFlow(backend, { mode: "queue", onBusy: "drop" }, WF, "v3"), "INVALID_ARGUMENT");
      await expectCode(registerFlow(backend, { limit: 0 }, WF, "v4"), "INVALID_EVENT");
      expect(await backend.getWorkflowVersion(WF, "v2")).toBeNull();
    });

    it("concurrency limit 2: two runs start, the rest wait (recorded once) and start in FIFO order as slots free", async () => {
      const { backend } = t;
      await registerFlow(backend, { limit: 2 });
      const ids = await submitSpaced([0, 1, 2, 3, 4].map((i) => ({ i })));
      expect(await statuses(backend, ids)).toEqual(["running", "running", "pending", "pending", "pending"]);
      const waiting = (await backend.getRun(ids[2]!))!;
      expect(waiting.flow).toMatchObject({ decision: "queued" });
      expect(await workflowTrail(backend, ids[2]!)).toEqual(["RunSubmitted", "FlowControlled"]);
      await finish(backend, ids[1]!);
      expect(await statuses(backend, ids)).toEqual(["running", "completed", "running", "pending", "pending"]);
      await backend.cancelRun(ids[0]!, "test");
      expect(await statuses(backend, ids)).toEqual(["cancelled", "completed", "running", "running", "pending"]);
      await backend.startDueRuns();
      expect((await workflowTrail(backend, ids[4]!)).filter((e) => e === "FlowControlled")).toHaveLength(1);
      await finish(backend, ids[2]!);
      await finish(backend, ids[3]!);
      await finish(backend, ids[4]!);
      expect(await statuses(backend, ids)).toEqual(["cancelled", "completed", "completed", "completed", "completed"]);
    });

    it("a higher priority waiting run starts first; keys from the input path are separate gates", async () => {
      const { backend } = t;
      await registerFlow(backend, { limit: 1, key: "customer.id" });
      const [a1, a2] = await submitAll(backend, [{ customer: { id: "A" } }, { customer: { id: "A" } }]);
      tick();
      const [a3] = await submitAll(backend, [{ customer: { id: "A" } }], { priority: 5 });
      const [b1] = await submitAll(backend, [{ customer: { id: "B" } }]);
      expect(await statuses(backend, [a1!, a2!, a3!, b1!])).toEqual(["running", "pending", "pending", "running"]);
      expect((await backend.getRun(a1!))!.flowKey).toBe("A");
      await finish(backend, a1!);
      expect(await statuses(backend, [a2!, a3!])).toEqual(["pending", "running"]);
    });

    it("concurrencyKey at submit names the gate; bad keys are typed errors that write nothing", async () => {
      const { backend } = t;
      await registerFlow(backend, { limit: 1, key: "customerId" });
      const [x1, x2] = await submitAll(backend, [{ customerId: "A" }, { customerId: "B" }], {
        concurrencyKey: "shared",
      });
      expect(await statuses(backend, [x1!, x2!])).toEqual(["running", "pending"]);
      await expectCode(
        backend.submitRun({ workflowSlug: WF, input: { customerId: { nested: true } } }),
        "INVALID_INPUT",
      );
      await backend.registerWorkflow({ slug: "plain", name: "plain", steps: [] });
      await expectCode(backend.submitRun({ workflowSlug: "plain", concurrencyKey: "k" }), "INVALID_ARGUMENT");
      expect(await backend.listRuns({ workflowSlug: "plain" })).toEqual([]);
      expect(await backend.listRuns({ workflowSlug: WF })).toHaveLength(2);
    });

    it("singleton drop: a submit while a run is active is recorded as dropped and cancelled", async () => {
      const { backend } = t;
      await registerFlow(backend, { mode: "singleton", onBusy: "drop" });
      const [first, second] = await submitAll(backend, [{ n: 1 }, { n: 2 }]);
      const dropped = (await backend.getRun(second!))!;
      expect(dropped.status).toBe("cancelled");
      expect(dropped.flow).toMatchObject({ decision: "dropped", relatedRunId: first });
      await finish(backend, first!);
      const [third] = await submitAll(backend, [{ n: 3 }]);
      expect((await backend.getRun(third!))!.status).toBe("running");
    });

    it("singleton replace: the active run is cancelled as replaced and the new one starts", async () => {
      const { backend } = t;
      await registerFlow(backend, { mode: "singleton", onBusy: "replace" });
      const [first] = await submitAll(backend, [{ n: 1 }]);
      tick();
      const [second] = await submitAll(backend, [{ n: 2 }]);
      const replaced = (await backend.getRun(first!))!;
      expect(replaced).toMatchObject({ status: "cancelled", flow: { decision: "replaced", relatedRunId: second } });
      expect((await backend.getRun(second!))!.status).toBe("running");
    });

    it('singleton signal: a submit while a run is running becomes the signal "input" of the running run', async () => {
      const { backend } = t;
      await registerFlow(backend, { mode: "singleton", onBusy: "signal" });
      const [first, second] = await submitAll(backend, [{ n: 1 }, { n: 2 }]);
      expect((await backend.getRun(second!))!).toMatchObject({
        status: "cancelled",
        flow: { decision: "signalled", relatedRunId: first },
      });
      const signals = (await backend.getRun(first!))!.signals ?? [];
      expect(signals.map((g) => [g.name, JSON.parse(g.payload)])).toEqual([["input", { n: 2 }]]);
    });

    it("exclusive reject: a submit while a run is active is refused with FLOW_REJECTED and writes nothing, alone or in a batch", async () => {
      const { backend } = t;
      await registerFlow(backend, { mode: "exclusive", onBusy: "reject" });
      const [first] = await submitAll(backend, [{ n: 1 }]);
      await expectCode(backend.submitRun({ workflowSlug: WF, input: { n: 2 } }), "FLOW_REJECTED");
      const batch = await backend.submitRuns([{ workflowSlug: WF, input: { n: 3 } }, { workflowSlug: "missing-wf" }]);
      expect(batch.map((o) => (o.ok ? "ok" : o.error.code))).toEqual(["FLOW_REJECTED", "WORKFLOW_NOT_FOUND"]);
      expect((await backend.listRuns({ workflowSlug: WF })).map((r) => r.runId)).toEqual([first]);
    });

    it("exclusive latest: only the newest waiting run is kept, older ones are superseded at once", async () => {
      const { backend } = t;
      await registerFlow(backend, { mode: "exclusive", onBusy: "latest" });
      const ids = await submitSpaced([1, 2, 3, 4].map((n) => ({ n })));
      expect(await statuses(backend, ids)).toEqual(["running", "cancelled", "cancelled", "pending"]);
      expect((await backend.getRun(ids[1]!))!.flow).toMatchObject({ decision: "superseded" });
      await finish(backend, ids[0]!);
      const last = (await backend.getRun(ids[3]!))!;
      expect(last.status).toBe("running");
      expect(JSON.parse(last.input!)).toEqual({ n: 4 });
    });

    it("capacity: beyond the waiting capacity a submit is refused", async () => {
      const { backend } = t;
      await registerFlow(backend, { mode: "capacity", limit: 1, capacity: 2 });
      const ids = await submitAll(backend, [1, 2, 3]);
      expect(await statuses(backend, ids)).toEqual(["running", "pending", "pending"]);
      await expectCode(backend.submitRun({ workflowSlug: WF, input: 4 }), "FLOW_REJECTED");
      await finish(backend, ids[0]!);
      expect((await backend.submitRun({ workflowSlug: WF, input: 5 })).isNew).toBe(true);
    });

    it("rate limit delay: never more than `limit` starts in any window; delayed runs start when the window allows", async () => {
      const { backend, clock } = t;
      await registerFlow(backend, { rateLimit: { limit: 2, periodMs: 60_000 } });
      const ids = await submitSpaced([0, 1, 2, 3, 4], 1000);
      expect(await statuses(backend, ids)).toEqual(["running", "running", "pending", "pending", "pending"]);
      const delayed = (await backend.getRun(ids[2]!))!;
      expect(delayed.flow?.decision).toBe("delayed");
      expect(delayed.availableAtUs).toBe(delayed.flow!.untilUs);
      clock.advanceMs(30_000);
      await backend.startDueRuns();
      expect(await statuses(backend, ids.slice(2))).toEqual(["pending", "pending", "pending"]);
      clock.advanceMs(30_000);
      await backend.startDueRuns();
      expect(await statuses(backend, ids)).toEqual(["running", "running", "running", "running", "pending"]);
      clock.advanceMs(59_000);
      await backend.startDueRuns();
      expect((await backend.getRun(ids[4]!))!.status).toBe("pending");
      clock.advanceMs(2000);
      await backend.startDueRuns();
      expect((await backend.getRun(ids[4]!))!.status).toBe("running");
      const starts = (await states(backend, ids))
        .flatMap((r) => (r.startedAtUs === undefined ? [] : [r.startedAtUs]))
        .sort((a, b) => a - b);
      for (let i = 2; i < starts.length; i++)
        expect(starts[i]! - starts[i - 2]!, "three starts inside one window").toBeGreaterThanOrEqual(60_000_000);
    });

    it("a batch submit decides each item as one submit after the other would, against the runs already there", async () => {
      const { backend } = t;
      await registerFlow(backend, { limit: 2, key: "customer" });
      const first = await backend.submitRun({ workflowSlug: WF, input: { customer: "a" }, idempotencyKey: "first" });
      tick();
      const keys = ["a", "a", "b", "a", "b", "b", "c"];
      const ids = async (items: Array<Record<string, unknown>>) =>
        (await backend.submitRuns(items.map((o) => ({ workflowSlug: WF, ...o })))).map((o) => {
          if (!o.ok) throw o.error;
          return o;
        });
      const batch = await ids(keys.map((customer, n) => ({ input: { customer, n } })));
      expect(batch.every((o) => o.isNew)).toBe(true);
      expect(
        await statuses(
          backend,
          batch.map((o) => o.runId),
        ),
      ).toEqual(["running", "pending", "running", "pending", "running", "pending", "running"]);
      for (const r of await states(
        backend,
        batch.map((o) => o.runId),
      ))
        if (r.status === "pending") expect(r.flow?.decision).toBe("queued");
      // A batch with a taken key: that item is the existing run, the others are decided as above.
      tick();
      const again = await ids([
        { input: { customer: "c", n: 7 } },
        { input: { customer: "a" }, idempotencyKey: "first" },
        { input: { customer: "c", n: 8 } },
      ]);
      expect(again.map((o) => o.isNew)).toEqual([true, false, true]);
      expect(again[1]!.runId).toBe(first.runId);
      expect(await statuses(backend, [again[0]!.runId, again[2]!.runId])).toEqual(["running", "pending"]);
      await registerFlow(backend, { rateLimit: { limit: 2, periodMs: 60_000 } }, "wf-rate");
      const rated = (
        await backend.submitRuns([0, 1, 2, 3].map((i) => ({ workflowSlug: "wf-rate", input: { i } })))
      ).map((o) => (o.ok ? o.runId : ""));
      expect(await statuses(backend, rated)).toEqual(["running", "running", "pending", "pending"]);
      expect((await backend.getRun(rated[2]!))!.flow?.decision).toBe("delayed");
    });

    it("a waiting run is judged by its own version's limit when a slot frees, not by a newer version's", async () => {
      const { backend } = t;
      await registerFlow(backend, { limit: 3 });
      const ids = await submitSpaced([0, 1, 2, 3].map((i) => ({ i })));
      expect(await statuses(backend, ids)).toEqual(["running", "running", "running", "pending"]);
      await registerFlow(backend, { limit: 1 }, WF, "v2");
      await finish(backend, ids[0]!);
      expect(await statuses(backend, ids)).toEqual(["completed", "running", "running", "running"]);
    });

    it("rate limit drop: a run over the budget is dropped", async () => {
      const { backend } = t;
      await registerFlow(backend, { rateLimit: { limit: 1, periodMs: 60_000, onExceed: "drop" } });
      const ids = await submitAll(backend, [1, 2]);
      expect(await statuses(backend, ids)).toEqual(["running", "cancelled"]);
      expect((await backend.getRun(ids[1]!))!.flow?.decision).toBe("dropped");
    });

    it("debounce: one run starts, after the period, with the newest input; the others are superseded", async () => {
      const { backend, clock } = t;
      await registerFlow(backend, { key: "doc", debounce: { periodMs: 1000 } });
      const ids = await submitSpaced(
        [1, 2, 3].map((v) => ({ doc: "d1", v })),
        400,
      );
      const [other] = await submitAll(backend, [{ doc: "d2", v: 9 }]);
      expect(await statuses(backend, [...ids, other!])).toEqual(["cancelled", "cancelled", "pending", "pending"]);
      await backend.startDueRuns();
      expect((await backend.getRun(ids[2]!))!.status).toBe("pending");
      clock.advanceMs(1000);
      await backend.startDueRuns();
      const started = (await states(backend, [...ids, other!])).filter((r) => r.status === "running");
      expect(started.map((r) => JSON.parse(r.input!))).toEqual([
        { doc: "d1", v: 3 },
        { doc: "d2", v: 9 },
      ]);
    });

    it("a gated run that becomes available later is started by the maintenance sweep", async () => {
      const { backend, clock } = t;
      await registerFlow(backend, { limit: 1 });
      const { runId } = await backend.submitRun({ workflowSlug: WF, availableAtUs: clock.nowUs() + 5_000_000 });
      expect((await backend.getRun(runId))!.status).toBe("pending");
      clock.advanceMs(5000);
      expect(await backend.startDueRuns()).toEqual([runId]);
      expect((await backend.getRun(runId))!.status).toBe("running");
    });
  });
}
