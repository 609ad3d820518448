import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";
import { SchemaTooNewError } from "@cairn/backend-interface";

/** One numbered SQL migration. A file containing the line `-- cairn:breaking` makes older code refuse the schema. */
export interface Migration {
  version: number;
  name: string;
  breaking: boolean;
  sql: string;
}

const DIR = new URL("./migrations/", import.meta.url);

/** The migrations shipped with this code, in order (files `NNNN_name.sql`, never edited once landed). */
export function loadMigrations(): Migration[] {
  return readdirSync(DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(new URL(file, DIR), "utf8");
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ""),
        breaking: /^-- cairn:breaking\s*$/m.test(sql),
        sql,
      };
    });
}

/** The newest schema version this code knows. */
export function latestVersion(migrations: Migration[] = loadMigrations()): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}

/**
 * Brings `schema` up to date in one transaction under a transaction-scoped advisory lock keyed by the schema,
 * so any number of workers starting at once migrate exactly once. Applied migrations are recorded in
 * `<schema>.migrations`. A database already migrated past this code by a breaking migration is refused with
 * SchemaTooNewError; newer non-breaking migrations are tolerated. Returns the versions it applied.
 */
export async function migrate(
  client: pg.PoolClient | pg.Client,
  schema: string,
  quoted: string,
  location: string,
): Promise<number[]> {
  const migrations = loadMigrations();
  const supported = latestVersion(migrations);
  const applied: number[] = [];
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`cairn-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.migrations (version integer PRIMARY KEY, name text NOT NULL, breaking boolean NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const rows = (
      await client.query<{ version: number; breaking: boolean }>(`SELECT version, breaking FROM ${quoted}.migrations`)
    ).rows;
    const done = new Set(rows.map((r) => r.version));
    const tooNew = rows.filter((r) => r.version > supported && r.breaking);
    if (tooNew.length > 0) throw new SchemaTooNewError(location, Math.max(...rows.map((r) => r.version)), supported);
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql.replaceAll("{{schema}}", quoted));
      await client.query(`INSERT INTO ${quoted}.migrations (version, name, breaking) VALUES ($1, $2, $3)`, [
        m.version,
        m.name,
        m.breaking,
      ]);
      applied.push(m.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
