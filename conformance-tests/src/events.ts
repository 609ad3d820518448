import { describe, expect, it } from "vitest";
import type { Event } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { openSecondBackend, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { WF, logEvent, submit } from "./support/scenario.js";

const ids = (events: Event[]) => events.map((e) => e.eventId);

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** A valid step event of each kind the tests append by hand. */
function stepEvents(runId: string, ts: number, prefix: string): Event[] {
  const base = { timestampUs: ts, workflowSlug: WF, runId, category: "step" as const };
  return [
    {
      ...base,
      eventId: `${prefix}-9`,
      stepId: "a",
      type: "StepScheduled",
      availableAtUs: ts,
      reason: "initial",
      attemptNumber: 1,
    },
    {
      ...base,
      eventId: `${prefix}-8`,
      stepId: "b/nested",
      type: "StepScheduled",
      availableAtUs: ts,
      reason: "initial",
      attemptNumber: 1,
      priority: 3,
    },
    {
      ...base,
      eventId: `${prefix}-7`,
      stepId: "a",
      type: "StepStarted",
      workerId: "w1",
      dependencies: [],
      attemptNumber: 1,
    },
    { ...base, eventId: `${prefix}-6`, stepId: "a", type: "StepHeartbeat", workerId: "w1", attemptNumber: 1 },
    {
      ...base,
      eventId: `${prefix}-5`,
      stepId: "b/nested",
      type: "LogEntry",
      stream: "stderr",
      message: "hello",
      attemptNumber: 1,
    },
    {
      ...base,
      eventId: `${prefix}-4`,
      stepId: "a",
      type: "StepCompleted",
      output: '{"x":1}',
      durationUs: 5,
      attemptNumber: 1,
      exportOutput: true,
    },
  ];
}

/** Append/load order, filters, validation, normalisation and concurrent appends. */
export function eventTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);

  describe("events: append and load", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("returns a run's events in append order (equal timestamps, ids sorting backwards), with category and stepId filters, identically on every read", async () => {
      const { backend, clock } = t;
      const runId = await submit(backend, { runId: "run-order" });
      const ts = clock.nowUs();
      const wfBase = { timestampUs: ts, workflowSlug: WF, runId, category: "workflow" as const };
      const appended: Event[] = [
        ...stepEvents(runId, ts, "z1"),
        {
          ...wfBase,
          eventId: "z1-3",
          type: "WorkflowStarted",
          workflowAttemptNumber: 1,
          hasInputSchema: false,
          hasInput: false,
        },
        ...stepEvents(runId, ts, "y1"),
        {
          ...wfBase,
          eventId: "y0-1",
          type: "WorkflowInputValidation",
          workflowAttemptNumber: 1,
          hasSchema: false,
          success: true,
        },
      ];
      for (const ev of appended) await backend.appendEvent(WF, runId, ev);
      const all = await backend.loadEvents(WF, runId);
      expect(all).toHaveLength(appended.length + 1);
      expect(all[0]!.type).toBe("RunSubmitted");
      expect(ids(all.slice(1))).toEqual(ids(appended));
      expect(all.slice(1)).toEqual(appended);

      const steps = await backend.loadEvents(WF, runId, { category: "step" });
      expect(ids(steps)).toEqual(ids(all.filter((e) => e.category === "step")));
      const wf = await backend.loadEvents(WF, runId, { category: "workflow" });
      expect(ids(wf)).toEqual(ids(all.filter((e) => e.category === "workflow")));
      const nested = await backend.loadEvents(WF, runId, { category: "step", stepId: "b/nested" });
      expect(ids(nested)).toEqual(ids(all.filter((e) => e.category === "step" && e.stepId === "b/nested")));
      expect(nested).toHaveLength(4);

      for (let i = 0; i < 3; i++) expect(ids(await backend.loadEvents(WF, runId))).toEqual(ids(all));
      const second = await openSecondBackend(t.instance.opener);
      try {
        expect(ids(await second.loadEvents(WF, runId))).toEqual(ids(all));
      } finally {
        await second.close();
      }
    });

    it("keeps append order when a later event carries an earlier timestamp", async () => {
      const { backend, clock } = t;
      const runId = await submit(backend);
      const ref = { workflowSlug: WF, runId, stepId: "s" };
      const now = clock.nowUs();
      const events = [
        logEvent(ref, "first", now + 5_000),
        logEvent(ref, "second", now + 1_000),
        logEvent(ref, "third", now + 3_000),
      ];
      for (const e of events) await backend.appendEvent(WF, runId, e);
      const loaded = await backend.loadEvents(WF, runId, { category: "step", stepId: "s" });
      expect(loaded.map((e) => (e.type === "LogEntry" ? e.message : e.type))).toEqual(["first", "second", "third"]);
    });

    it("returns no events for a run that does not exist, and keeps runs and workflows apart", async () => {
      const { backend } = t;
      const runId = await submit(backend, { runId: "run-shared" });
      expect(await backend.loadEvents(WF, "run-missing")).toEqual([]);
      expect(await backend.loadEvents("wf-other", runId)).toEqual([]);
      expect(await backend.loadEvents(WF, runId, { category: "step" })).toEqual([]);
    });

    it("rejects invalid events with INVALID_EVENT and writes nothing", async () => {
      const { backend, clock } = t;
      const runId = await submit(backend);
      const ts = clock.nowUs();
      const ok = logEvent({ workflowSlug: WF, runId, stepId: "s" }, "fine", ts) as Record<string, unknown>;
      const bad: Array<[string, unknown]> = [
        ["missing message", { ...ok, message: undefined }],
        ["unknown type", { ...ok, type: "StepExploded" }],
        ["unknown category", { ...ok, category: "weird" }],
        ["attempt 0", { ...ok, attemptNumber: 0 }],
        ["negative timestamp", { ...ok, timestampUs: -1 }],
        ["fractional timestamp", { ...ok, timestampUs: 1.5 }],
        ["string timestamp", { ...ok, timestampUs: String(ts) }],
        ["empty eventId", { ...ok, eventId: "" }],
        ["bad stream", { ...ok, stream: "stdnull" }],
        ["step event without stepId", { ...ok, stepId: undefined }],
        [
          "workflow event missing fields",
          { eventId: "e1", timestampUs: ts, workflowSlug: WF, runId, category: "workflow", type: "WorkflowCompleted" },
        ],
        [
          "StepFailed without fingerprints",
          {
            ...ok,
            type: "StepFailed",
            error: { message: "x" },
            durationUs: 1,
            terminal: true,
            failureReason: "execution-error",
          },
        ],
        ["event of another run", { ...ok, runId: "run-elsewhere" }],
        ["event of another workflow", { ...ok, workflowSlug: "wf-elsewhere" }],
        ["null", null],
        ["a string", "LogEntry"],
      ];
      for (const [label, ev] of bad)
        await expectCode(backend.appendEvent(WF, runId, ev as Event), "INVALID_EVENT", label);
      expect((await backend.loadEvents(WF, runId)).map((e) => e.type)).toEqual(["RunSubmitted"]);
      expect(await backend.loadEvents(WF, "run-elsewhere")).toEqual([]);
      expect(await backend.loadEvents("wf-elsewhere", runId)).toEqual([]);
    });

    it("never mutates the caller's event and stores a normalised copy (unknown keys dropped, later caller edits invisible)", async () => {
      const { backend, clock } = t;
      const runId = await submit(backend);
      const ev = {
        ...logEvent({ workflowSlug: WF, runId, stepId: "s" }, "orig", clock.nowUs()),
        extraField: "drop me",
        nested: { deep: 1 },
      };
      const snapshot = structuredClone(ev);
      const frozen = deepFreeze(structuredClone(ev));
      await backend.appendEvent(WF, runId, frozen as unknown as Event);
      await backend.appendEvent(WF, runId, ev as unknown as Event);
      expect(ev).toEqual(snapshot);
      (ev as { message: string }).message = "edited after append";
      const loaded = await backend.loadEvents(WF, runId, { category: "step" });
      expect(loaded).toHaveLength(2);
      for (const e of loaded) {
        expect(e).not.toHaveProperty("extraField");
        expect(e).not.toHaveProperty("nested");
        expect(e).toMatchObject({ type: "LogEntry", message: "orig", stepId: "s" });
      }
      loaded[0]!.runId = "tampered";
      expect((await backend.loadEvents(WF, runId, { category: "step" }))[0]!.runId).toBe(runId);
    });

    it("batchAppendEvents validates every event before writing any, and appends to several runs in order", async () => {
      const { backend, clock } = t;
      const r1 = await submit(backend, { runId: "run-b1" });
      const r2 = await submit(backend, { runId: "run-b2" });
      const ts = clock.nowUs();
      const a = (runId: string, m: string) => logEvent({ workflowSlug: WF, runId, stepId: "s" }, m, ts);
      const bad = { ...a(r2, "bad"), attemptNumber: -3 } as Event;
      await expectCode(
        backend.batchAppendEvents([
          { workflowSlug: WF, runId: r1, event: a(r1, "x") },
          { workflowSlug: WF, runId: r2, event: bad },
        ]),
        "INVALID_EVENT",
      );
      expect(await backend.loadEvents(WF, r1, { category: "step" })).toEqual([]);
      expect(await backend.loadEvents(WF, r2, { category: "step" })).toEqual([]);
      const items = ["1", "2", "3"].flatMap((m) =>
        [r1, r2].map((runId) => ({ workflowSlug: WF, runId, event: a(runId, `${runId}-${m}`) })),
      );
      await backend.batchAppendEvents(items);
      for (const r of [r1, r2]) {
        const msgs = (await backend.loadEvents(WF, r, { category: "step" })).map((e) =>
          e.type === "LogEntry" ? e.message : "",
        );
        expect(msgs).toEqual([`${r}-1`, `${r}-2`, `${r}-3`]);
      }
    });

    it("loses nothing when many appends to one run race in one process", async () => {
      const { backend, clock } = t;
      const runId = await submit(backend);
      const ref = { workflowSlug: WF, runId, stepId: "s" };
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => backend.appendEvent(WF, runId, logEvent(ref, `m${i}`, clock.nowUs()))),
      );
      const msgs = (await backend.loadEvents(WF, runId, { category: "step" })).map((e) =>
        e.type === "LogEntry" ? e.message : "",
      );
      expect(msgs).toHaveLength(40);
      expect(new Set(msgs).size).toBe(40);
    });
  });

  describe.skipIf(!caps.multiProcess)("events: concurrent appends from several processes", () => {
    const t = useInstance(h, { workflows: [WF] });

    it("loses and duplicates nothing, keeps each process's order, and every reader sees one total order", async () => {
      const { backend } = t;
      const runId = await submit(backend);
      await withChildren(procs, t.instance.opener, 4, (group) =>
        group.round((i) => ({ task: "append", workflowSlug: WF, runId, stepId: "s", count: 15, tag: `p${i}` })),
      );
      const events = await backend.loadEvents(WF, runId, { category: "step" });
      const msgs = events.map((e) => (e.type === "LogEntry" ? e.message : ""));
      expect(msgs).toHaveLength(60);
      expect(new Set(msgs).size).toBe(60);
      for (let p = 0; p < 4; p++) {
        expect(msgs.filter((m) => m.startsWith(`p${p}:`))).toEqual(Array.from({ length: 15 }, (_, i) => `p${p}:${i}`));
        const stamps = events
          .filter((e) => e.type === "LogEntry" && e.message.startsWith(`p${p}:`))
          .map((e) => e.timestampUs);
        expect(stamps, "one process's timestamps never go backwards").toEqual([...stamps].sort((a, b) => a - b));
      }
      expect(ids(await backend.loadEvents(WF, runId, { category: "step" }))).toEqual(ids(events));
      const second = await openSecondBackend(t.instance.opener);
      try {
        expect(ids(await second.loadEvents(WF, runId, { category: "step" }))).toEqual(ids(events));
      } finally {
        await second.close();
      }
    }, 90_000);
  });
}
