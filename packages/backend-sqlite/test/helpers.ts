import { mkdtempSync, rmSync } from "node:fs";
import Database from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "@cairn/backend-interface";
import { SqliteBackend, type SqliteBackendOptions } from "../src/index.js";

/** A fresh temp directory and a database path in it. */
export function tempDb(): { dir: string; filename: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "cairn-sqlite-"));
  return { dir, filename: join(dir, "cairn.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh file database in WAL mode with one table `t (v TEXT)`, opened with better-sqlite3 (no Cairn schema). */
export function tempWalTable(): { db: Database.Database; filename: string; cleanup: () => void } {
  const { filename, cleanup } = tempDb();
  const db = new Database(filename);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (v TEXT)");
  return { db, filename, cleanup };
}

/** An initialized backend on a fresh file database with a ManualClock. */
export async function freshBackend(
  options: SqliteBackendOptions = {},
): Promise<{ backend: SqliteBackend; clock: ManualClock; filename: string; dispose: () => Promise<void> }> {
  const db = tempDb();
  const clock = new ManualClock();
  const backend = new SqliteBackend(db.filename, { clock, ...options });
  await backend.initialize();
  return {
    backend,
    clock,
    filename: db.filename,
    dispose: async () => {
      await backend.close();
      db.cleanup();
    },
  };
}

/** Claim metadata with no dependencies. */
export const claimMeta = { dependencies: [], timestamp: 0, attemptNumber: 0 };
