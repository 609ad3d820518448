/**
 * Test helpers for Postgres: the URL the global setup chose, and a fresh schema per test (file).
 *
 * Inside vitest workers the decision comes from `inject("cairnPostgres")`; elsewhere (child processes spawned
 * by tests) from the `CAIRN_TEST_POSTGRES_URL` environment variable the global setup exported.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, inject } from "vitest";
import type { PostgresDecision } from "./postgres-decision.js";

export type { PostgresDecision } from "./postgres-decision.js";

function decision(): PostgresDecision {
  let d: PostgresDecision | undefined;
  try {
    d = inject("cairnPostgres");
  } catch {
    d = undefined;
  }
  if (d) return d;
  const url = process.env.CAIRN_TEST_POSTGRES_URL;
  if (url) return { url, source: "DATABASE_URL", reason: "from CAIRN_TEST_POSTGRES_URL" };
  return {
    url: null,
    source: "none",
    reason: process.env.CAIRN_TEST_POSTGRES_UNAVAILABLE ?? "the Postgres global setup did not run",
  };
}

/** The Postgres URL of this test run, or null when Postgres is unavailable. */
export function postgresUrl(): string | null {
  return decision().url;
}

/** Why Postgres is unavailable, or null when it is available. */
export function postgresUnavailableReason(): string | null {
  const d = decision();
  return d.url === null ? d.reason : null;
}

/** `describe` that runs only when Postgres is available; otherwise skips, printing why. */
export function describePostgres(name: string, fn: () => void): void {
  const reason = postgresUnavailableReason();
  if (reason === null) {
    describe(name, fn);
    return;
  }
  console.warn(`[cairn] skipping "${name}": Postgres unavailable (${reason})`);
  describe.skip(`${name} (skipped: Postgres unavailable: ${reason})`, fn);
}

/** A unique schema name: lowercase, starts with a letter, safe as an identifier. */
export function uniqueSchemaName(prefix = "t"): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString("hex")}`;
}

/** A fresh, empty schema in the test database, and the function that drops it (with everything in it). */
export async function freshSchema(prefix = "t"): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const url = postgresUrl();
  if (url === null) throw new Error(`Postgres unavailable: ${postgresUnavailableReason()}`);
  const schema = uniqueSchemaName(prefix);
  await withClient(url, (c) => c.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`));
  return {
    schema,
    url,
    drop: () =>
      withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`)).then(
        () => undefined,
      ),
  };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
