import type { Database, Statement } from "better-sqlite3";
import type { Cursor } from "@cairn/backend-interface";

/**
 * Compare-and-set cursors on SQLite (the `cursors` table). Writes run inside the caller's write transaction, so the
 * comparison and the write are one step for every process on the file.
 */
export class SqliteCursors {
  private readonly s: Record<"get" | "insert" | "update", Statement>;

  constructor(db: Database) {
    this.s = {
      get: db.prepare("SELECT key, value, at_us AS atUs FROM cursors WHERE key = ?"),
      insert: db.prepare("INSERT INTO cursors (key, value, at_us) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING"),
      update: db.prepare("UPDATE cursors SET value = ?, at_us = ? WHERE key = ? AND value = ?"),
    };
  }

  /** The cursors under `keys` (absent ones left out). */
  read(keys: readonly string[]): Cursor[] {
    return keys.flatMap((k) => {
      const row = this.s.get.get(k) as Cursor | undefined;
      return row ? [row] : [];
    });
  }

  /** Stores `next` when the stored value is `expected` (null: none); true when it did. */
  compareAndSet(expected: string | null, next: Cursor): boolean {
    if (expected === null) return this.s.insert.run(next.key, next.value, next.atUs).changes === 1;
    return this.s.update.run(next.value, next.atUs, next.key, expected).changes === 1;
  }
}
