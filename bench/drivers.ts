/** Backend factories: fresh storage per call, and its cleanup. */
import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import pg from "pg";
import type { Backend, BackendOptions } from "@cairn/backend-interface";
import { FileSystemBackend } from "@cairn/backend-fs";
import { SqliteBackend } from "@cairn/backend-sqlite";
import { PostgresBackend } from "@cairn/backend-postgres";

/** Driver labels used in the JSON lines. `fs` is the filesystem driver with durability fsync (its default). */
export type DriverName = "fs" | "fs-none" | "sqlite" | "postgres";
export const ALL_DRIVERS: DriverName[] = ["fs", "fs-none", "sqlite", "postgres"];

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://root@127.0.0.1:5432/test";
export const BENCH_TMP = process.env.CAIRN_BENCH_TMP ?? join(tmpdir(), "cairn-bench");

/** A fresh, initialized backend and how to throw its storage away. */
export interface BenchInstance {
  driver: DriverName;
  backend: Backend;
  /** A backend URL a `cairn` process can open for the same storage. */
  url: string;
  /** Opens a second backend on the same storage (another "process" in this one). */
  reopen(options?: BackendOptions): Promise<Backend>;
  /** Closes the backend and removes the storage. */
  destroy(): Promise<void>;
  /** Postgres: the schema; others: the path. */
  location: string;
}

let seq = 0;

export interface CreateOptions extends BackendOptions {
  /** Postgres: use this pool (for round-trip counting); the caller ends it. */
  pool?: pg.Pool;
  /** Existing storage to open instead of a fresh one (path or schema); destroy() still removes it. */
  location?: string;
}

export async function createDriver(driver: DriverName, options: CreateOptions = {}): Promise<BenchInstance> {
  const { pool, location, ...backendOptions } = options;
  switch (driver) {
    case "fs":
    case "fs-none": {
      const durability = driver === "fs" ? "fsync" : "none";
      const dir = location ?? (await freshDir(`fs-${durability}`));
      const open = async (o: BackendOptions = backendOptions) => {
        const b = new FileSystemBackend(dir, { ...o, durability, warnOnCorrupt: true });
        await b.initialize();
        return b;
      };
      const backend = await open();
      return {
        driver,
        backend,
        url: `file:${dir}?durability=${durability}`,
        location: dir,
        reopen: open,
        destroy: async () => {
          await backend.close().catch(() => {});
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    case "sqlite": {
      const dir = location ? undefined : await freshDir("sqlite");
      const filename = location ?? join(dir!, "cairn.db");
      const open = async (o: BackendOptions = backendOptions) => {
        const b = new SqliteBackend(filename, o);
        await b.initialize();
        return b;
      };
      const backend = await open();
      return {
        driver,
        backend,
        url: `sqlite:${filename}`,
        location: filename,
        reopen: open,
        destroy: async () => {
          await backend.close().catch(() => {});
          const parent = dir ?? dirname(filename);
          if (parent.startsWith(BENCH_TMP)) await rm(parent, { recursive: true, force: true });
          else for (const f of [filename, `${filename}-wal`, `${filename}-shm`]) await rm(f, { force: true });
        },
      };
    }
    case "postgres": {
      const schema = location ?? `bench_${process.pid}_${Date.now().toString(36)}_${seq++}`;
      const open = async (o: BackendOptions = backendOptions, p?: pg.Pool) => {
        const b = new PostgresBackend({ ...o, connectionString: DATABASE_URL, schema, ...(p ? { pool: p } : {}) });
        await b.initialize();
        return b;
      };
      const backend = await open(backendOptions, pool);
      const u = new URL(DATABASE_URL);
      u.searchParams.set("schema", schema);
      return {
        driver,
        backend,
        url: u.toString(),
        location: schema,
        reopen: (o) => open(o),
        destroy: async () => {
          await backend.close().catch(() => {});
          await dropSchema(schema);
        },
      };
    }
  }
}

export async function freshDir(prefix: string): Promise<string> {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(BENCH_TMP, { recursive: true });
  return mkdtemp(join(BENCH_TMP, `${prefix}-`));
}

/** Runs one SQL statement on a short-lived connection. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await sql(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
}

/** True when Postgres answers. */
export async function postgresAvailable(): Promise<string | null> {
  try {
    const rows = await sql<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]?.v ?? "unknown";
  } catch {
    return null;
  }
}
