import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Database } from "better-sqlite3";
import { NotACairnStoreError, SchemaTooNewError } from "@cairn/backend-interface";

/** One numbered schema change, loaded from `src/migrations/NNNN_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Marked by a `-- cairn:breaking` line: code that does not know this migration must refuse the database. */
  breaking: boolean;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** Reads the migration files shipped next to this module, in version order. */
export function loadMigrations(dir: URL = new URL("./migrations/", import.meta.url)): Migration[] {
  const files = readdirSync(fileURLToPath(dir))
    .filter((f) => MIGRATION_FILE.test(f))
    .sort();
  return files.map((name, i) => {
    const version = Number(name.slice(0, 4));
    if (version !== i + 1) throw new Error(`Migration ${name} is out of sequence (expected version ${i + 1}).`);
    const sql = readFileSync(new URL(name, dir), "utf8");
    return { version, name, sql, breaking: version === 1 || /^--\s*cairn:breaking\b/m.test(sql) };
  });
}

/** The schema version this code writes and understands. */
export const LATEST_SCHEMA_VERSION = loadMigrations().length;

/** What `migrate` found and did. */
export interface MigrationOutcome {
  /** Versions applied by this call (empty when the database was up to date). */
  applied: number[];
  /** The database's schema version afterwards. */
  schemaVersion: number;
}

/**
 * Brings the database to the latest schema inside one `BEGIN IMMEDIATE` transaction, so concurrent openers
 * (several processes) apply each migration exactly once. Refuses, naming `filename`, a database that is not
 * a Cairn database (NotACairnStoreError) or that a newer, incompatible Cairn wrote (SchemaTooNewError).
 */
export function migrate(db: Database, filename: string, migrations: Migration[] = loadMigrations()): MigrationOutcome {
  const supported = migrations.length;
  const run = db.transaction((): MigrationOutcome => {
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
    if (!tables.includes("cairn_migrations")) {
      if (tables.length > 0) {
        throw new NotACairnStoreError(
          filename,
          `it is an SQLite database with other tables (${tables.slice(0, 5).join(", ")}) and no cairn_migrations table`,
        );
      }
      db.exec(
        "CREATE TABLE cairn_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
      );
    } else if (!tables.includes("cairn_meta")) {
      throw new NotACairnStoreError(filename, "its cairn_meta table is missing");
    }
    const done = new Set(
      (db.prepare("SELECT version FROM cairn_migrations").all() as Array<{ version: number }>).map((r) => r.version),
    );
    if (done.size > 0) {
      const meta = readMeta(db);
      const found = Math.max(meta.schemaVersion, ...done);
      if (meta.compatibleFrom > supported) throw new SchemaTooNewError(filename, found, supported);
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare("INSERT INTO cairn_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      const setMeta = db.prepare(
        "INSERT INTO cairn_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      );
      if (m.version > readMeta(db).schemaVersion) setMeta.run("schema_version", String(m.version));
      if (m.breaking) setMeta.run("compatible_from", String(m.version));
      applied.push(m.version);
    }
    return { applied, schemaVersion: readMeta(db).schemaVersion };
  });
  return run.immediate();
}

function readMeta(db: Database): { schemaVersion: number; compatibleFrom: number } {
  const rows = db
    .prepare("SELECT key, value FROM cairn_meta WHERE key IN ('schema_version', 'compatible_from')")
    .all() as Array<{ key: string; value: string }>;
  const get = (k: string) => Number(rows.find((r) => r.key === k)?.value ?? 0);
  return { schemaVersion: get("schema_version"), compatibleFrom: get("compatible_from") };
}
