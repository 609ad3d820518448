import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { isCairnError, type CorruptRecordError } from "@cairn/backend-interface";
import { LATEST_SCHEMA_VERSION, SqliteBackend } from "../src/index.js";
import { claimMeta, tempDb } from "./helpers.js";
import { registerManual } from "../../../test-support/register.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function db() {
  const t = tempDb();
  cleanups.push(t.cleanup);
  return t;
}
async function open(
  filename: string,
  options: ConstructorParameters<typeof SqliteBackend>[1] = {},
): Promise<SqliteBackend> {
  const b = new SqliteBackend(filename, options);
  await b.initialize();
  cleanups.push(() => b.close());
  return b;
}

describe("SqliteBackend migrations", () => {
  it("applies numbered migrations once, records them and the schema version, in WAL mode", async () => {
    const { filename } = db();
    const a = await open(filename);
    const b = await open(filename);
    expect(a.driver.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(b.driver.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    const raw = new Database(filename, { readonly: true });
    expect(raw.prepare("SELECT version, name FROM cairn_migrations ORDER BY version").all()).toEqual([
      { version: 1, name: "0001_init.sql" },
      { version: 2, name: "0002_event_facts.sql" },
      { version: 3, name: "0003_facts_by_type.sql" },
      { version: 4, name: "0004_runs_by_workflow_status.sql" },
      { version: 5, name: "0005_engine_maintenance.sql" },
      { version: 6, name: "0006_worker_presence.sql" },
      { version: 7, name: "0007_runs_ended.sql" },
      { version: 8, name: "0008_marks.sql" },
      { version: 9, name: "0009_flow_gates.sql" },
      { version: 10, name: "0010_cursors.sql" },
      { version: 11, name: "0011_steps_waiting.sql" },
      { version: 12, name: "0012_call_events.sql" },
      { version: 13, name: "0013_entity_links.sql" },
      { version: 14, name: "0014_run_tenants.sql" },
      { version: 15, name: "0015_steps_ready_by_workflow.sql" },
    ]);
    expect(raw.prepare("SELECT value FROM cairn_meta WHERE key = 'schema_version'").get()).toEqual({
      value: String(LATEST_SCHEMA_VERSION),
    });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
  });

  it("refuses a database written by a newer, breaking schema, naming the file", async () => {
    const { filename } = db();
    await (await open(filename)).close();
    const raw = new Database(filename);
    raw.prepare("INSERT INTO cairn_migrations (version, name, applied_at) VALUES (99, '0099_future.sql', 'x')").run();
    raw.prepare("UPDATE cairn_meta SET value = '99' WHERE key IN ('schema_version', 'compatible_from')").run();
    raw.close();
    const err = await new SqliteBackend(filename).initialize().catch((e: unknown) => e);
    expect(isCairnError(err, "SCHEMA_TOO_NEW")).toBe(true);
    expect((err as Error).message).toContain(filename);
  });

  it("opens a database with newer non-breaking migrations", async () => {
    const { filename } = db();
    await (await open(filename)).close();
    const raw = new Database(filename);
    raw.prepare("INSERT INTO cairn_migrations (version, name, applied_at) VALUES (99, '0099_additive.sql', 'x')").run();
    raw.prepare("UPDATE cairn_meta SET value = '99' WHERE key = 'schema_version'").run();
    raw.close();
    expect((await open(filename)).driver.schemaVersion).toBe(99);
  });

  it("refuses a file that is not an SQLite database, and an SQLite database that is not Cairn's, naming the file", async () => {
    const { dir } = db();
    const text = `${dir}/notes.db`;
    writeFileSync(text, "this is not a database, just some text that is long enough to fill a header page ".repeat(20));
    const e1 = await new SqliteBackend(text).initialize().catch((e: unknown) => e);
    expect(isCairnError(e1, "NOT_A_CAIRN_STORE")).toBe(true);
    expect((e1 as Error).message).toContain(text);
    const foreign = `${dir}/foreign.db`;
    const raw = new Database(foreign);
    raw.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY)");
    raw.close();
    const e2 = await new SqliteBackend(foreign).initialize().catch((e: unknown) => e);
    expect(isCairnError(e2, "NOT_A_CAIRN_STORE")).toBe(true);
    expect((e2 as Error).message).toContain(foreign);
    const e3 = await new SqliteBackend(`${dir}/missing/dir/x.db`).initialize().catch((e: unknown) => e);
    expect(isCairnError(e3, "CONFIG_ERROR")).toBe(true);
  });

  it("works in memory and fails with BackendClosedError after close", async () => {
    const b = new SqliteBackend(":memory:");
    await b.initialize();
    expect(b.capabilities.multiProcess).toBe(false);
    await registerManual(b, "wf");
    await b.submitRun({ workflowSlug: "wf", runId: "r1" });
    expect((await b.getRun("r1"))?.status).toBe("pending");
    await b.close();
    await expect(b.getRun("r1")).rejects.toMatchObject({ code: "BACKEND_CLOSED" });
  });
});

describe("SqliteBackend corruption", () => {
  it("reports a corrupt event row with its location and reads the rest", async () => {
    const { filename } = db();
    const seen: CorruptRecordError[] = [];
    const b = await open(filename, { onCorrupt: (e) => seen.push(e) });
    await registerManual(b, "wf");
    await b.submitRun({ workflowSlug: "wf", runId: "r1" });
    await b.submitRun({ workflowSlug: "wf", runId: "r2" });
    for (const s of ["a", "b"])
      await b.scheduleStep("wf", "r1", s, { availableAt: 0, reason: "initial", attemptNumber: 1 });
    const raw = new Database(filename);
    const { seq } = raw.prepare("SELECT seq FROM events WHERE run_id = 'r1' AND step_id = 'a'").get() as {
      seq: number;
    };
    raw.prepare('UPDATE events SET body = \'{"eventId":"trunc\' WHERE seq = ?').run(seq);
    raw.close();
    const events = await b.loadEvents("wf", "r1");
    expect(events.map((e) => e.type)).toEqual(["RunSubmitted", "StepScheduled"]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.code).toBe("CORRUPT_RECORD");
    expect(seen[0]!.message).toContain(`seq ${seq}`);
    expect(seen[0]!.message).toContain(filename);
    expect(b.driver.corruptRecords).toEqual(seen);
    expect((await b.loadRun("wf", "r1")).map((s) => s.stepId)).toEqual(["a", "b"]);
    expect((await b.getRun("r2"))?.status).toBe("pending");
  });

  it("rebuilds a damaged projection row from the events and reports it", async () => {
    const { filename } = db();
    const b = await open(filename);
    await registerManual(b, "wf");
    await b.submitRun({ workflowSlug: "wf", runId: "r1" });
    await b.scheduleStep("wf", "r1", "a", { availableAt: 0, reason: "initial", attemptNumber: 1 });
    const raw = new Database(filename);
    raw.prepare("UPDATE steps SET state = 'garbage' WHERE run_id = 'r1'").run();
    raw.prepare("UPDATE runs SET state = '{}' WHERE run_id = 'r1'").run();
    raw.close();
    expect((await b.getRun("r1"))?.status).toBe("pending");
    expect((await b.getStepState("wf", "r1", "a"))?.status).toBe("scheduled");
    expect(await b.claimScheduledStep("wf", "r1", "a", "w", claimMeta)).toEqual({ attemptNumber: 1 });
    expect(b.driver.corruptRecords.map((e) => e.context.path)).toEqual([
      `${filename} (table runs, run_id r1)`,
      `${filename} (table steps, run_id r1, step_id a)`,
    ]);
  });
});
