/** The tracking queries on SQLite read through their partial indexes (migrations 0012, 0013), not a scan of the events. */
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteBackend } from "../src/index.js";

describe("tracking indexes", () => {
  it("entity links and calls are found through events_links_by_entity and events_calls_by_time", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cairn-tracking-idx-"));
    const file = join(dir, "cairn.db");
    const b = new SqliteBackend(file);
    await b.initialize();
    await b.close();
    const db = new Database(file, { readonly: true });
    try {
      const plan = (sql: string, ...args: unknown[]) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>)
          .map((r) => r.detail)
          .join("\n");
      expect(
        plan(
          `SELECT body FROM events WHERE type = 'StepLinked' AND json_extract(body, '$.entityType') = ? AND json_extract(body, '$.entityId') = ?
        ORDER BY timestamp_us DESC LIMIT 5`,
          "transaction",
          "tx_1",
        ),
      ).toMatch(/USING INDEX events_links_by_entity/);
      expect(
        plan(
          "SELECT body FROM events INDEXED BY events_calls_by_time WHERE type = 'StepCall' AND timestamp_us BETWEEN ? AND ?",
          0,
          1,
        ),
      ).toMatch(/events_calls_by_time/);
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
