import { expect, it } from "vitest";
import type pg from "pg";
import { newEventId, type FeedEntry } from "@cairn/backend-interface";
import { describePostgres } from "../../../test-support/postgres.js";
import { freshBackend, onCleanup, sameSchema } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";
import pgModule from "pg";

/** A plain client that stays open for the test (transactions are driven by hand). */
async function client(url: string): Promise<pg.Client> {
  const c = new pgModule.Client({ connectionString: url });
  await c.connect();
  onCleanup(() => c.end());
  return c;
}

/** Inserts one LogEntry row of `runId` the way the driver stores events (inside the caller's open transaction). */
async function insertLog(c: pg.Client, schema: string, runId: string, message: string): Promise<number> {
  const ts = Date.now() * 1000;
  const ev = {
    eventId: newEventId(ts),
    timestampUs: ts,
    workflowSlug: "wf",
    runId,
    category: "step",
    stepId: "s",
    type: "LogEntry",
    stream: "stdout",
    message,
    attemptNumber: 1,
  };
  const r = await c.query<{ seq: string }>(
    `INSERT INTO "${schema}".events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body) VALUES ($1, 'wf', $2, 's', 'LogEntry', $3, $4) RETURNING seq`,
    [ev.eventId, runId, ts, JSON.stringify(ev)],
  );
  return Number(r.rows[0]!.seq);
}

const messages = (entries: FeedEntry[]) =>
  entries.map((f) => (f.event.type === "LogEntry" ? f.event.message : f.event.type)).filter((m) => m.startsWith("t"));

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  expect(cond(), what).toBe(true);
}

describePostgres("Postgres event feed: commit order, not insert order", () => {
  it("a transaction that inserted first but commits last is listed after the one that committed first, and never missed", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", runId: "ra" });
    await backend.submitRun({ workflowSlug: "wf", runId: "rb" });
    const seen: FeedEntry[] = [];
    const sub = backend.subscribeFeed({
      pollIntervalMs: 10,
      batchSize: 3,
      onEvents: (page) => void seen.push(...page),
    });
    onCleanup(() => sub.stop());
    const t1 = await client(url);
    const t2 = await client(url);
    await t1.query("BEGIN");
    await t2.query("BEGIN");
    const seq1 = await insertLog(t1, schema, "ra", "t1-inserted-first");
    const seq2 = await insertLog(t2, schema, "rb", "t2-inserted-second");
    expect(seq1).toBeLessThan(seq2);
    await t2.query("COMMIT");
    await until(() => messages(seen).includes("t2-inserted-second"), "the consumer sees the first commit");
    // While t1 is open the consumer has moved past t2's event: t1's lower seq must still come, after it.
    await new Promise((r) => setTimeout(r, 100));
    expect(messages(seen)).toEqual(["t2-inserted-second"]);
    await t1.query("COMMIT");
    await until(() => messages(seen).length === 2, "the consumer sees the later commit");
    await sub.stop();
    expect(messages(seen)).toEqual(["t2-inserted-second", "t1-inserted-first"]);
    const all: FeedEntry[] = [];
    for (let after: string | null = null; ;) {
      const page = await backend.readFeed({ after, limit: 2 });
      if (page.entries.length === 0) break;
      all.push(...page.entries);
      after = page.cursor;
    }
    expect(all.map((f) => f.event.eventId)).toEqual(seen.map((f) => f.event.eventId));
  });

  it("many interleaved transactions committing in shuffled order: the feed is exactly their commit order", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", runId: "r" });
    const start = (await backend.readFeed({ limit: 1000 })).cursor;
    const seen: FeedEntry[] = [];
    const sub = backend.subscribeFeed({
      from: start,
      pollIntervalMs: 5,
      batchSize: 2,
      onEvents: (page) => void seen.push(...page),
    });
    onCleanup(() => sub.stop());
    const clients = await Promise.all(Array.from({ length: 6 }, () => client(url)));
    for (const [i, c] of clients.entries()) {
      await c.query("BEGIN");
      await insertLog(c, schema, "r", `t${i}-a`);
    }
    for (const [i, c] of clients.entries()) await insertLog(c, schema, "r", `t${i}-b`);
    const order = [3, 0, 5, 1, 4, 2];
    const committed: string[] = [];
    for (const i of order) {
      await clients[i]!.query("COMMIT");
      committed.push(`t${i}-a`, `t${i}-b`);
      await new Promise((r) => setTimeout(r, 15));
    }
    await until(() => seen.length >= 12, "every commit reaches the consumer");
    await sub.stop();
    expect(messages(seen)).toEqual(committed);
  });

  it("a rolled-back transaction leaves no position anyone waits on", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", runId: "r" });
    const c = await client(url);
    await c.query("BEGIN");
    await insertLog(c, schema, "r", "t-rolled-back");
    await c.query("ROLLBACK");
    await c.query("BEGIN");
    await insertLog(c, schema, "r", "t-kept");
    await c.query("COMMIT");
    const page = await backend.readFeed({ limit: 100 });
    expect(messages(page.entries)).toEqual(["t-kept"]);
    const commits = await c.query(`SELECT count(*)::int AS n FROM "${schema}".event_commits`);
    expect(commits.rows[0].n).toBe(2);
  });

  it("a transaction gets one position however many event inserts it made; one whose inserts stored no row gets none", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    await backend.submitRun({ workflowSlug: "wf", runId: "r" });
    const c = await client(url);
    const positions = async () =>
      (await c.query(`SELECT count(*)::int AS n FROM "${schema}".event_commits`)).rows[0].n as number;
    const before = await positions();
    await c.query("BEGIN");
    for (const m of ["t-1", "t-2", "t-3"]) await insertLog(c, schema, "r", m);
    await c.query(
      `INSERT INTO "${schema}".events (event_id, workflow_slug, run_id, type, timestamp_us, body) SELECT 'x', 'wf', 'r', 'LogEntry', 0, '{}' WHERE false`,
    );
    await c.query("COMMIT");
    expect(await positions()).toBe(before + 1);
    await c.query(
      `INSERT INTO "${schema}".events (event_id, workflow_slug, run_id, type, timestamp_us, body) SELECT 'x', 'wf', 'r', 'LogEntry', 0, '{}' WHERE false`,
    );
    expect(await positions()).toBe(before + 1);
    // Two transactions on one session: the mark of the first does not carry over to the second.
    await c.query("BEGIN");
    await insertLog(c, schema, "r", "t-4");
    await c.query("COMMIT");
    expect(await positions()).toBe(before + 2);
    expect(messages((await backend.readFeed({ limit: 100 })).entries)).toEqual(["t-1", "t-2", "t-3", "t-4"]);
    expect((await c.query(`SELECT count(*)::int AS n FROM "${schema}".feed_marks`)).rows[0].n).toBe(0);
  });

  it("an upgraded database lists the events written before migration 0014 first, in seq order, then new ones", async () => {
    const { backend, schema, url } = await freshBackend();
    await registerManual(backend, "wf");
    for (const r of ["r1", "r2", "r3"]) await backend.submitRun({ workflowSlug: "wf", runId: r });
    const c = await client(url);
    // What a database written before 0014 looks like.
    await c.query(`DROP TRIGGER events_feed_mark ON "${schema}".events; DROP TABLE "${schema}".feed_marks; DROP TABLE "${schema}".event_commits;
      DROP INDEX "${schema}".events_xid_idx; ALTER TABLE "${schema}".events DROP COLUMN xid; DELETE FROM "${schema}".migrations WHERE version IN (14, 19)`);
    const seqOrder = (
      await c.query<{ event_id: string }>(`SELECT event_id FROM "${schema}".events ORDER BY seq`)
    ).rows.map((r) => r.event_id);
    const upgraded = await sameSchema(url, schema);
    await upgraded.submitRun({ workflowSlug: "wf", runId: "r4" });
    const feed = (await upgraded.readFeed({ limit: 100 })).entries.map((e) => e.event);
    expect(feed.slice(0, seqOrder.length).map((e) => e.eventId)).toEqual(seqOrder);
    expect(feed.slice(seqOrder.length).map((e) => e.runId)).toEqual(["r4"]);
  });
});
