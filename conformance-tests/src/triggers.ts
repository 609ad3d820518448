import { describe, expect, it } from "vitest";
import type { Backend, BackendDriver } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { T0_US, useInstance } from "./support/lifecycle.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { expectCode } from "./support/expect-error.js";
import { registerVersion } from "./support/dags.js";

const ONE_STEP = [{ id: "work", name: "Work", exportOutput: true }];
const MIN = 60_000_000;

/** Registers a store-driven workflow (one step) with the given triggers. */
async function registerTriggered(
  backend: Backend,
  slug: string,
  extra: { on?: string[]; schedule?: { cron: string[]; timezone?: string; backfillMs?: number } },
): Promise<void> {
  await registerVersion(backend, ONE_STEP, { workflowSlug: slug });
  await backend.registerWorkflow({ slug, name: slug, versionId: "v1", steps: ONE_STEP, ...extra });
}

/** Counts the driver's submission writes (an observer: the writes still go through). */
function countSubmissionWrites(backend: Backend): { batches: number; singles: number } {
  const driver = backend.driver as BackendDriver;
  const counts = { batches: 0, singles: 0 };
  const single = driver.writeSubmission.bind(driver);
  driver.writeSubmission = (...args) => {
    counts.singles++;
    return single(...args);
  };
  if (driver.writeSubmissions) {
    const batch = driver.writeSubmissions.bind(driver);
    driver.writeSubmissions = (...args) => {
      counts.batches++;
      return batch(...args);
    };
  }
  return counts;
}

const runsOf = async (backend: Backend, slug: string) => backend.listRuns({ workflowSlug: slug });

/** Event triggers (`on`, Backend.emit) and cron schedules (`schedule`, Backend.tickSchedules), decided by the store. */
export function triggerTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);

  describe("triggers: emit starts every listening workflow", () => {
    const t = useInstance(h, { manualClock: true });

    it("starts one run per listening workflow with the payload as input, in one submission write; the same id again starts nothing", async () => {
      const { backend } = t;
      await registerTriggered(backend, "wf-ship", { on: ["order.created"] });
      await registerTriggered(backend, "wf-mail", { on: ["order.created", "order.paid"] });
      await registerTriggered(backend, "wf-paid", { on: ["order.paid"] });
      await registerVersion(backend, ONE_STEP, { workflowSlug: "wf-plain" });
      const writes = countSubmissionWrites(backend);
      const first = await backend.emit("order.created", { orderId: 7 }, { id: "evt-1" });
      expect(first.eventId).toBe("evt-1");
      expect(first.runs.map((r) => [r.workflowSlug, r.isNew]).sort()).toEqual([
        ["wf-mail", true],
        ["wf-ship", true],
      ]);
      if (backend.driver.writeSubmissions) expect(writes).toEqual({ batches: 1, singles: 0 });
      else expect(writes.singles).toBe(2);
      for (const r of first.runs) {
        const run = await backend.getRun(r.runId);
        expect(run).toMatchObject({
          workflowSlug: r.workflowSlug,
          status: "running",
          input: JSON.stringify({ orderId: 7 }),
        });
      }
      expect(await runsOf(backend, "wf-paid")).toEqual([]);
      expect(await runsOf(backend, "wf-plain")).toEqual([]);

      const again = await backend.emit("order.created", { orderId: 7 }, { id: "evt-1" });
      expect(again.runs.map((r) => r.isNew)).toEqual([false, false]);
      expect(again.runs.map((r) => r.runId).sort()).toEqual(first.runs.map((r) => r.runId).sort());
      expect((await backend.listRuns()).length).toBe(2);
      await expectCode(backend.emit("order.created", { orderId: 8 }, { id: "evt-1" }), "IDEMPOTENCY_CONFLICT");

      const fresh = await backend.emit("order.created", { orderId: 7 });
      expect(fresh.eventId).toMatch(/^evt-/);
      expect(fresh.eventId).not.toBe("evt-1");
      expect(fresh.runs.every((r) => r.isNew)).toBe(true);
      expect(await backend.emit("nobody.listens", null)).toMatchObject({ runs: [] });
    });

    it("refuses a bad name, id or payload, and a payload a listener's schema rejects, writing nothing", async () => {
      const { backend } = t;
      await registerTriggered(backend, "wf-a", { on: ["user.signed-up"] });
      await backend.createWorkflowVersion({
        workflowSlug: "wf-b",
        versionId: "v1",
        contentHash: "h",
        steps: ONE_STEP,
        inputSchemaJSON: { type: "object", required: ["email"] },
      });
      await backend.registerWorkflow({
        slug: "wf-b",
        name: "wf-b",
        versionId: "v1",
        steps: ONE_STEP,
        inputSchemaJSON: { type: "object", required: ["email"] },
        on: ["user.signed-up"],
      });
      await expectCode(backend.emit("bad name!", {}), "INVALID_ARGUMENT");
      await expectCode(backend.emit("../x", {}), "INVALID_ARGUMENT");
      await expectCode(backend.emit("user.signed-up", { n: 1n }), "INVALID_ARGUMENT");
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expectCode(backend.emit("user.signed-up", cyclic), "INVALID_ARGUMENT");
      await expectCode(backend.emit("user.signed-up", { at: new Date() }), "INVALID_ARGUMENT");
      await expectCode(backend.emit("user.signed-up", {}, { id: "" }), "INVALID_ARGUMENT");
      await expectCode(backend.emit("user.signed-up", { name: "no email" }), "INVALID_INPUT");
      expect(await backend.listRuns()).toEqual([]);
      const ok = await backend.emit("user.signed-up", { email: "a@b.c" });
      expect(ok.runs).toHaveLength(2);
    });

    it("refuses a registration whose `on` holds an invalid event name", async () => {
      const { backend } = t;
      await expectCode(
        backend.registerWorkflow({ slug: "wf-bad", name: "wf-bad", steps: [], on: ["ok.name", "not ok"] }),
        "INVALID_EVENT",
      );
      expect((await backend.listWorkflowMetadata()).map((w) => w.slug)).not.toContain("wf-bad");
    });

    it.skipIf(!caps.multiProcess)(
      "concurrent emits of one event id from several processes start exactly one run per listener",
      async () => {
        const { backend } = t;
        await registerTriggered(backend, "wf-ship", { on: ["order.created"] });
        await registerTriggered(backend, "wf-mail", { on: ["order.created"] });
        const startAtMs = Date.now() + 1500;
        const results = await withChildren(procs, t.instance.opener, 6, (group) =>
          group.round<{ eventId: string; runs: Array<{ workflowSlug: string; runId: string; isNew: boolean }> }>(
            () => ({ task: "emit", event: "order.created", payload: { orderId: 1 }, id: "evt-race", startAtMs }),
          ),
        );
        for (const slug of ["wf-ship", "wf-mail"]) {
          const mine = results.flatMap((r) => r.runs.filter((x) => x.workflowSlug === slug));
          expect(mine).toHaveLength(6);
          expect(mine.filter((x) => x.isNew)).toHaveLength(1);
          expect(new Set(mine.map((x) => x.runId)).size).toBe(1);
          expect((await runsOf(backend, slug)).map((r) => r.runId)).toEqual([mine[0]!.runId]);
        }
      },
      90_000,
    );
  });

  describe("schedules: one run per tick, decided by the store", () => {
    const t = useInstance(h, { manualClock: true });

    it("a schedule seen first starts nothing; each later tick starts one run with its time as input, once", async () => {
      const { backend, clock } = t;
      await registerTriggered(backend, "wf-cron", { schedule: { cron: ["*/5 * * * *"] } });
      clock.advanceMs(60_000); // 00:01
      expect((await backend.tickSchedules()).runs).toEqual([]);
      expect(await backend.listSchedules()).toEqual([
        {
          workflowSlug: "wf-cron",
          cron: ["*/5 * * * *"],
          timezone: "UTC",
          lastTickUs: T0_US,
          nextTickUs: T0_US + 5 * MIN,
        },
      ]);
      clock.advanceMs(4 * 60_000 + 2_000); // 00:05:02
      const tick = await backend.tickSchedules();
      expect(tick.runs).toMatchObject([{ workflowSlug: "wf-cron", scheduledAtUs: T0_US + 5 * MIN, isNew: true }]);
      expect(await backend.getRun(tick.runs[0]!.runId)).toMatchObject({
        status: "running",
        input: JSON.stringify({ scheduledAt: "2026-01-01T00:05:00.000Z" }),
      });
      expect((await backend.tickSchedules()).runs).toEqual([]);
      clock.advanceMs(60_000);
      expect((await backend.tickSchedules()).runs).toEqual([]);
      expect((await runsOf(backend, "wf-cron")).length).toBe(1);
      expect((await backend.listSchedules())[0]).toMatchObject({
        lastTickUs: T0_US + 5 * MIN,
        nextTickUs: T0_US + 10 * MIN,
      });
    });

    it("without backfill, a long outage starts only the latest tick missed; with backfill, the ticks within the window", async () => {
      const { backend, clock } = t;
      await registerTriggered(backend, "wf-latest", { schedule: { cron: ["*/30 * * * *"] } });
      await registerTriggered(backend, "wf-backfill", { schedule: { cron: ["*/30 * * * *"], backfillMs: 3_600_000 } });
      clock.advanceMs(10 * 60_000); // 00:10: first sight
      const first = await backend.tickSchedules();
      // The backfill schedule catches up its window at once (23:30, 00:00); the other only records its baseline.
      expect(first.runs.map((r) => [r.workflowSlug, new Date(r.scheduledAtUs / 1000).toISOString()])).toEqual([
        ["wf-backfill", "2025-12-31T23:30:00.000Z"],
        ["wf-backfill", "2026-01-01T00:00:00.000Z"],
      ]);
      clock.advanceMs(5 * 3_600_000); // 05:10: ten ticks were missed
      const after = await backend.tickSchedules();
      const iso = (slug: string) =>
        after.runs.filter((r) => r.workflowSlug === slug).map((r) => new Date(r.scheduledAtUs / 1000).toISOString());
      expect(iso("wf-latest")).toEqual(["2026-01-01T05:00:00.000Z"]);
      expect(iso("wf-backfill")).toEqual(["2026-01-01T04:30:00.000Z", "2026-01-01T05:00:00.000Z"]);
      expect((await backend.tickSchedules()).runs).toEqual([]);
      expect((await runsOf(backend, "wf-latest")).length).toBe(1);
      expect((await runsOf(backend, "wf-backfill")).length).toBe(4);
    });

    it("reads expressions in the schedule's timezone; a list of expressions ticks at each; coinciding ticks start one run", async () => {
      const { backend, clock } = t;
      await registerTriggered(backend, "wf-ny", { schedule: { cron: ["0 9 * * *"], timezone: "America/New_York" } });
      await registerTriggered(backend, "wf-two", {
        schedule: { cron: ["0 * * * *", "*/30 * * * *"], backfillMs: 3_600_000 },
      });
      const [ny, two] = await backend.listSchedules();
      expect(ny).toMatchObject({
        workflowSlug: "wf-ny",
        timezone: "America/New_York",
        nextTickUs: Date.UTC(2026, 0, 1, 14) * 1000,
      });
      expect(two).toMatchObject({ nextTickUs: T0_US + 30 * MIN });
      clock.advanceMs(61 * 60_000); // 01:01
      const r = await backend.tickSchedules({ workflowSlugs: ["wf-two"] });
      expect(r.runs.map((x) => new Date(x.scheduledAtUs / 1000).toISOString())).toEqual([
        "2026-01-01T00:30:00.000Z",
        "2026-01-01T01:00:00.000Z",
      ]);
    });

    it("refuses a registration with a cron expression that does not parse, an unknown timezone or a negative backfill", async () => {
      const { backend } = t;
      await expectCode(
        backend.registerWorkflow({ slug: "wf-bad", name: "wf-bad", steps: [], schedule: { cron: ["every monday"] } }),
        "INVALID_EVENT",
      );
      await expectCode(
        backend.registerWorkflow({
          slug: "wf-bad",
          name: "wf-bad",
          steps: [],
          schedule: { cron: ["* * * * *"], timezone: "Mars/Olympus" },
        }),
        "INVALID_EVENT",
      );
      await expectCode(
        backend.registerWorkflow({
          slug: "wf-bad",
          name: "wf-bad",
          steps: [],
          schedule: { cron: ["* * * * *"], backfillMs: -1 },
        }),
        "INVALID_EVENT",
      );
      expect(await backend.listSchedules()).toEqual([]);
    });

    it("cursors: compare-and-set writes only over the expected value, readable by key", async () => {
      const store = t.backend.driver as BackendDriver;
      expect(await store.readCursors(["c/1"])).toEqual([]);
      expect(await store.compareAndSetCursor("x", { key: "c/1", value: "1", atUs: 1 })).toBe(false);
      expect(await store.compareAndSetCursor(null, { key: "c/1", value: "1", atUs: 1 })).toBe(true);
      expect(await store.compareAndSetCursor(null, { key: "c/1", value: "2", atUs: 2 })).toBe(false);
      // Enough writes for a driver that keeps versions to prune old ones; an old value never matches again.
      for (let v = 1; v < 100; v++)
        expect(await store.compareAndSetCursor(String(v), { key: "c/1", value: String(v + 1), atUs: v + 1 })).toBe(
          true,
        );
      expect(await store.compareAndSetCursor("3", { key: "c/1", value: "9", atUs: 9 })).toBe(false);
      expect(await store.compareAndSetCursor(null, { key: "c/1", value: "0", atUs: 9 })).toBe(false);
      expect(await store.readCursors(["c/1", "c/2"])).toEqual([{ key: "c/1", value: "100", atUs: 100 }]);
    });

    it.skipIf(!caps.multiProcess)(
      "cursors: concurrent compare-and-sets from 4 processes never lose or double an increment",
      async () => {
        const wins = await withChildren(procs, t.instance.opener, 4, (group) =>
          group.round<number>(() => ({
            task: "cas-cursor",
            key: "race/count",
            rounds: 60,
            startAtMs: Date.now() + 500,
          })),
        );
        const [cursor] = await (t.backend.driver as BackendDriver).readCursors(["race/count"]);
        expect(Number(cursor?.value)).toBe(wins.reduce((a, b) => a + b, 0));
        expect(wins.reduce((a, b) => a + b, 0)).toBeGreaterThan(40);
      },
      90_000,
    );

    it.skipIf(!caps.multiProcess)(
      "with 3 worker processes ticking at once, every tick starts exactly one run",
      async () => {
        const { backend } = t;
        await registerTriggered(backend, "wf-cron", { schedule: { cron: ["*/5 * * * *"] } });
        await registerTriggered(backend, "wf-fill", { schedule: { cron: ["* * * * *"], backfillMs: 10 * 60_000 } });
        // Each round, the three processes tick at one instant of an injected clock: first sight, 00:05:01, 00:05:30, 00:14, 00:20.
        const instants = [
          T0_US + 1_000_000,
          T0_US + 5 * MIN + 1_000_000,
          T0_US + 5 * MIN + 30_000_000,
          T0_US + 14 * MIN,
          T0_US + 20 * MIN + 500_000,
        ];
        const all: Array<{ workflowSlug: string; runId: string; scheduledAtUs: number; isNew: boolean }> = [];
        await withChildren(procs, t.instance.opener, 3, async (group) => {
          for (const atUs of instants) {
            const startAtMs = Date.now() + 300;
            const results = await group.round<{ runs: typeof all; failed: unknown[] }>(() => ({
              task: "tick-schedules",
              atUs,
              startAtMs,
            }));
            for (const r of results) {
              expect(r.failed).toEqual([]);
              all.push(...r.runs);
            }
          }
        });
        const ticks = (slug: string) =>
          all
            .filter((r) => r.workflowSlug === slug && r.isNew)
            .map((r) => (r.scheduledAtUs - T0_US) / MIN)
            .sort((a, b) => a - b);
        expect(ticks("wf-cron")).toEqual([5, 10, 20]);
        // The backfill schedule: 10 minutes of ticks at first sight (-9..0), then each minute up to 20, every one once.
        expect(ticks("wf-fill")).toEqual(Array.from({ length: 30 }, (_, i) => i - 9));
        for (const slug of ["wf-cron", "wf-fill"]) {
          const runs = await runsOf(backend, slug);
          expect(runs.length).toBe(ticks(slug).length);
          expect(new Set(runs.map((r) => r.input)).size).toBe(runs.length);
        }
      },
      120_000,
    );
  });
}
