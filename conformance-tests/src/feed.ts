import { describe, expect, it } from "vitest";
import { encodeFeedCursor, type Backend, type Event, type FeedEntry } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { openSecondBackend, useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { WF, logEvent, submit } from "./support/scenario.js";

const ids = (events: readonly Event[]) => events.map((e) => e.eventId);
const message = (e: Event) => (e.type === "LogEntry" ? e.message : "");

/** The whole feed after `after`, read in pages of `pageSize`; checks that each page's cursor is its last entry's. */
async function readAll(
  backend: Backend,
  options: { after?: string | null; types?: string[]; pageSize?: number } = {},
): Promise<FeedEntry[]> {
  const out: FeedEntry[] = [];
  let after = options.after ?? null;
  for (;;) {
    const page = await backend.readFeed({
      after,
      limit: options.pageSize ?? 7,
      ...(options.types ? { types: options.types } : {}),
    });
    if (page.entries.length === 0) {
      expect(page.cursor).toBe(after);
      return out;
    }
    expect(page.cursor).toBe(page.entries.at(-1)!.cursor);
    out.push(...page.entries);
    after = page.cursor;
  }
}

/** Every event of the given runs, each run's in its own order. */
async function eventsOfRuns(backend: Backend, runIds: readonly string[]): Promise<Map<string, Event[]>> {
  const out = new Map<string, Event[]>();
  for (const id of runIds) out.set(id, await backend.loadEvents(WF, id));
  return out;
}

/** Checks that `feed` holds exactly the events of `runs`, once each, every run's in its own order. */
function expectCompleteAndOrdered(feed: readonly Event[], runs: Map<string, Event[]>): void {
  expect(new Set(ids(feed)).size, "no event twice").toBe(feed.length);
  const all = [...runs.values()].flat();
  expect([...ids(feed)].sort()).toEqual([...ids(all)].sort());
  for (const [runId, events] of runs)
    expect(ids(feed.filter((e) => e.runId === runId)), `run ${runId} in its own order`).toEqual(ids(events));
}

/** Subscribes from `from` and collects every page until stopped. */
function collect(backend: Backend, from: string | null, options: { types?: string[]; batchSize?: number } = {}) {
  const entries: FeedEntry[] = [];
  const cursors: string[] = [];
  const sub = backend.subscribeFeed({
    from,
    batchSize: options.batchSize ?? 5,
    pollIntervalMs: 20,
    ...(options.types ? { types: options.types } : {}),
    onEvents: (page, cursor) => {
      entries.push(...page);
      cursors.push(cursor);
    },
  });
  const until = async (count: number, timeoutMs = 30_000): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (entries.length < count && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(entries.length, "the subscription delivered every event").toBeGreaterThanOrEqual(count);
  };
  return { entries, cursors, sub, until };
}

/** The event feed: every run's events in commit order by cursor, followed by subscriptions, from one and many processes. */
export function feedTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);

  describe("feed: read and follow", () => {
    const t = useInstance(h, { workflows: [WF] });

    it("lists every event of every run once, in commit order, page by page, and resumes from any cursor", async () => {
      const { backend } = t;
      expect(await backend.readFeed({ limit: 10 })).toEqual({ entries: [], cursor: null });
      const a = await submit(backend);
      const b = await submit(backend);
      const refA = { workflowSlug: WF, runId: a, stepId: "s" };
      const refB = { workflowSlug: WF, runId: b, stepId: "s" };
      const written: Event[] = [];
      for (let i = 0; i < 6; i++) {
        const e = logEvent(i % 2 ? refB : refA, `m${i}`, backend.clock.nowUs());
        await backend.appendEvent(WF, e.runId, e);
        written.push(e);
      }
      const feed = await readAll(backend, { pageSize: 3 });
      expectCompleteAndOrdered(
        feed.map((f) => f.event),
        await eventsOfRuns(backend, [a, b]),
      );
      // Writes that each waited for the one before are listed in that order.
      expect(feed.filter((f) => f.event.type === "LogEntry").map((f) => message(f.event))).toEqual([
        "m0",
        "m1",
        "m2",
        "m3",
        "m4",
        "m5",
      ]);
      expect(new Set(feed.map((f) => f.cursor)).size).toBe(feed.length);
      for (let i = 0; i < feed.length; i++)
        expect(ids((await readAll(backend, { after: feed[i]!.cursor })).map((f) => f.event))).toEqual(
          ids(feed.slice(i + 1).map((f) => f.event)),
        );
      expect(ids((await readAll(backend, { pageSize: 1000 })).map((f) => f.event))).toEqual(
        ids(feed.map((f) => f.event)),
      );

      // A cursor survives a restart: another backend on the same storage resumes from it.
      const second = await openSecondBackend(t.instance.opener);
      try {
        expect(ids((await readAll(second, { after: feed[3]!.cursor })).map((f) => f.event))).toEqual(
          ids(feed.slice(4).map((f) => f.event)),
        );
      } finally {
        await second.close();
      }
    });

    it("filters by type (any type name, also one no event has) and pages the filtered feed", async () => {
      const { backend } = t;
      const a = await submit(backend);
      const ref = { workflowSlug: WF, runId: a, stepId: "s" };
      for (let i = 0; i < 4; i++) await backend.appendEvent(WF, a, logEvent(ref, `x${i}`, backend.clock.nowUs()));
      const all = await readAll(backend);
      const logs = await readAll(backend, { types: ["LogEntry"], pageSize: 3 });
      expect(ids(logs.map((f) => f.event))).toEqual(ids(all.map((f) => f.event).filter((e) => e.type === "LogEntry")));
      expect(logs).toHaveLength(4);
      const both = await readAll(backend, { types: ["LogEntry", "RunSubmitted"] });
      expect(ids(both.map((f) => f.event))).toEqual(
        ids(all.map((f) => f.event).filter((e) => e.type === "LogEntry" || e.type === "RunSubmitted")),
      );
      expect(await readAll(backend, { types: ["SomeFutureEventType"] })).toEqual([]);
      // A filtered cursor resumes the unfiltered feed from the same point.
      const rest = await readAll(backend, { after: logs[1]!.cursor });
      expect(ids(rest.map((f) => f.event))).toEqual(
        ids(all.slice(all.findIndex((f) => f.event.eventId === logs[1]!.event.eventId) + 1).map((f) => f.event)),
      );
    });

    it("refuses malformed cursors and bad options with typed errors", async () => {
      const { backend } = t;
      await submit(backend);
      const page = await backend.readFeed({ limit: 1 });
      const good = page.cursor!;
      const forged = (position: string) => encodeFeedCursor(position);
      for (const bad of [
        "",
        "12",
        "cf1_",
        "cf1_!!",
        `${good}x`,
        `x${good}`,
        good.replace(/\.(.)/, ".$1$1").slice(0, good.length),
        forged("zz:1"),
        forged("q:1.2.3.4.5.6"),
        forged("nonsense"),
      ]) {
        await expectCode(backend.readFeed({ after: bad, limit: 1 }), "INVALID_FEED_CURSOR");
      }
      await expectCode(backend.readFeed({ limit: 0 }), "INVALID_ARGUMENT");
      await expectCode(backend.readFeed({ limit: 1.5 }), "INVALID_ARGUMENT");
      await expectCode(backend.readFeed({ types: [], limit: 1 }), "INVALID_ARGUMENT");
      await expectCode(backend.readFeed({ types: ["no spaces"], limit: 1 }), "INVALID_ARGUMENT");
      expect(() => backend.subscribeFeed({ from: "nope", onEvents: () => {} })).toThrow(/not a Cairn feed cursor/);
      expect(() => backend.subscribeFeed({ batchSize: 0, onEvents: () => {} })).toThrow(/batchSize/);
      // A well-formed cursor of another kind of store ends the subscription with one report.
      const errors: unknown[] = [];
      const sub = backend.subscribeFeed({
        from: forged("zz:1"),
        pollIntervalMs: 5,
        onEvents: () => {},
        onError: (e) => errors.push(e),
      });
      const end = Date.now() + 5000;
      while (errors.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      await sub.stop();
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual(["INVALID_FEED_CURSOR"]);
    });

    it("a subscription delivers what exists and what is written later, in order, and resumes from its cursor", async () => {
      const { backend } = t;
      const a = await submit(backend);
      const ref = { workflowSlug: WF, runId: a, stepId: "s" };
      const c = collect(backend, null, { batchSize: 2 });
      try {
        await c.until(1);
        for (let i = 0; i < 5; i++) await backend.appendEvent(WF, a, logEvent(ref, `late${i}`, backend.clock.nowUs()));
        await c.until(6);
      } finally {
        await c.sub.stop();
      }
      expect(ids(c.entries.map((f) => f.event))).toEqual(ids(await backend.loadEvents(WF, a)));
      expect(c.sub.cursor).toBe(c.entries.at(-1)!.cursor);
      expect(c.cursors.at(-1)).toBe(c.sub.cursor);
      await backend.appendEvent(WF, a, logEvent(ref, "after-stop", backend.clock.nowUs()));
      const resumed = collect(backend, c.sub.cursor, { types: ["LogEntry"] });
      try {
        await resumed.until(1);
      } finally {
        await resumed.sub.stop();
      }
      expect(resumed.entries.map((f) => message(f.event))).toEqual(["after-stop"]);
    });

    it("a page whose handler fails is delivered again (at least once)", async () => {
      const { backend } = t;
      await submit(backend);
      let calls = 0;
      const seen: string[] = [];
      const errors: unknown[] = [];
      const sub = backend.subscribeFeed({
        pollIntervalMs: 10,
        onError: (e) => errors.push(e),
        onEvents: (page) => {
          calls++;
          if (calls === 1) throw new Error("consumer down");
          seen.push(...ids(page.map((f) => f.event)));
        },
      });
      const end = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      await sub.stop();
      expect(errors).toHaveLength(1);
      expect(seen).toHaveLength(1);
      expect(calls).toBe(2);
    });

    it("events of deleted runs leave the feed; an old cursor still resumes after them", async () => {
      const { backend } = t;
      const a = await submit(backend);
      const b = await submit(backend);
      const before = await readAll(backend);
      await backend.cancelRun(a);
      const cursorInA = before.find((f) => f.event.runId === a)!.cursor;
      await backend.deleteEndedRuns({ olderThanMs: 0, statuses: ["cancelled"] });
      const after = await readAll(backend);
      expect(after.some((f) => f.event.runId === a)).toBe(false);
      expect(ids(after.map((f) => f.event))).toEqual(ids(await backend.loadEvents(WF, b)));
      const resumed = await readAll(backend, { after: cursorInA });
      expect(resumed.every((f) => f.event.runId === b)).toBe(true);
      expect(resumed.length).toBeGreaterThan(0);
    });
  });

  describe.skipIf(!caps.multiProcess)("feed: concurrent writers in several processes", () => {
    const t = useInstance(h, { workflows: [WF] });

    it("a consumer following the feed while processes commit never misses an event nor sees one out of commit order", async () => {
      const { backend } = t;
      const shared = await submit(backend);
      const own = [await submit(backend), await submit(backend), await submit(backend), await submit(backend)];
      const start = await backend.readFeed({ limit: 10_000 });
      const c = collect(backend, start.cursor, { batchSize: 7 });
      try {
        await withChildren(procs, t.instance.opener, 4, (group) =>
          group.round((i) => ({
            task: "append-alternating",
            workflowSlug: WF,
            runIds: [shared, own[i]!],
            stepId: "s",
            count: 24,
            tag: `p${i}`,
          })),
        );
        await c.until(4 * 24);
      } finally {
        await c.sub.stop();
      }
      const followed = c.entries.map((f) => f.event);
      // Everything the consumer saw, in the order it saw it, is the feed as read afterwards: nothing was
      // committed behind its cursor, and nothing reached it out of order.
      const final = await readAll(backend, { after: start.cursor, pageSize: 50 });
      expect(ids(followed)).toEqual(ids(final.map((f) => f.event)));
      expectCompleteAndOrdered(
        followed,
        new Map(
          [...(await eventsOfRuns(backend, [shared, ...own]))].map(([id, evs]) => [
            id,
            evs.filter((e) => e.type === "LogEntry"),
          ]),
        ),
      );
      // Each process waited for each write before the next: its writes are in the feed in that order.
      for (let p = 0; p < 4; p++) {
        expect(followed.map(message).filter((m) => m.startsWith(`p${p}:`))).toEqual(
          Array.from({ length: 24 }, (_, i) => `p${p}:${i}`),
        );
      }
      // Another process reads the same feed.
      const second = await openSecondBackend(t.instance.opener);
      try {
        expect(ids((await readAll(second, { after: start.cursor, pageSize: 13 })).map((f) => f.event))).toEqual(
          ids(followed),
        );
      } finally {
        await second.close();
      }
    });
  });
}
