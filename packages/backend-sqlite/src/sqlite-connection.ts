import Database from "better-sqlite3";
import { ConfigError } from "@cairn/backend-interface";
import { migrate, type MigrationOutcome } from "./sqlite-migrations.js";
import { cannotOpenError, translateSqliteError, withBusyRetry, type BusyRetryPolicy } from "./sqlite-errors.js";

/** How a connection is opened. */
export interface ConnectionOptions {
  /** SQLite's own busy timeout: how long one statement waits for a lock before SQLITE_BUSY (ms). */
  busyTimeoutMs: number;
  /** Retries of whole transactions on top of the busy timeout. */
  busyRetry: BusyRetryPolicy;
}

/** True for the names better-sqlite3 treats as a private in-memory or temporary database. */
export function isMemoryFilename(filename: string): boolean {
  return filename === "" || filename === ":memory:";
}

/**
 * Opens (creating if needed) a Cairn SQLite database: checks it is an SQLite file, switches it to WAL with
 * synchronous=NORMAL and a busy timeout, then applies pending migrations under `BEGIN IMMEDIATE`.
 * Every failure names the file: NotACairnStoreError for a foreign or corrupt file, SchemaTooNewError for a
 * newer schema, ConfigError when the file cannot be opened at all.
 */
export async function openConnection(
  filename: string,
  options: ConnectionOptions,
): Promise<{ db: Database.Database; migration: MigrationOutcome }> {
  let db: Database.Database;
  try {
    db = new Database(filename);
  } catch (err) {
    const translated = translateSqliteError(err, filename);
    if (translated !== err) throw translated;
    throw cannotOpenError(filename, (err as Error).message, err);
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs))}`);
    // Reading the schema is the first access to the file: a foreign file fails here with SQLITE_NOTADB.
    await withBusyRetry(() => db.prepare("SELECT count(*) FROM sqlite_master").get(), filename, options.busyRetry);
    if (!isMemoryFilename(filename)) {
      const mode = await withBusyRetry(
        () => db.pragma("journal_mode = WAL", { simple: true }),
        filename,
        options.busyRetry,
      );
      if (String(mode).toLowerCase() !== "wal")
        throw new ConfigError(`SQLite database ${filename} could not switch to WAL mode (got ${String(mode)}).`, {
          path: filename,
        });
    }
    // WAL + NORMAL: a commit is atomic and survives a process crash; an OS crash or power loss may lose the
    // last few commits (never corrupt the file). See README.md.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = OFF");
    db.pragma("temp_store = MEMORY");
    // Analytics scan the same window of event_facts several times: keep it in a bounded (32 MiB) page cache.
    db.pragma("cache_size = -32768");
    // Checkpoints: see SqliteCheckpointer (off the writing thread for a file; nothing to checkpoint in memory).
    const migration = await withBusyRetry(() => migrate(db, filename), filename, options.busyRetry);
    return { db, migration };
  } catch (err) {
    db.close();
    throw translateSqliteError(err, filename);
  }
}
