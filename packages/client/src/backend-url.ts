import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError, type Backend } from "@cairn/backend-interface";

/** A parsed backend URL: which driver, and its arguments. */
export type BackendTarget =
  | { driver: "fs"; url: string; dir: string; durability?: string }
  | { driver: "sqlite"; url: string; filename: string }
  | {
      driver: "postgres";
      url: string;
      connectionString: string;
      schema?: string;
      poolSize?: number;
      claimPoolSize?: number;
    }
  | { driver: "memory"; url: string; snapshotFile?: string };

const EXAMPLES = "file:./.cairn/data, sqlite:./.cairn/cairn.db, postgres://user@host:5432/db?schema=cairn or memory:";
/** Postgres URL parameters that are Cairn's own (connection counts), taken out of the connection string. */
const POOL_PARAMS = { poolSize: 1, claimPoolSize: 0 } as const;

/**
 * Parses a backend URL (`file:`, `sqlite:`, `postgres://`/`postgresql://`, `memory:` with an optional snapshot file
 * after the colon); relative paths resolve against `cwd`. Throws ConfigError.
 */
export function parseBackendUrl(url: string, cwd: string = process.cwd()): BackendTarget {
  const u = url.trim();
  if (u.length === 0) throw new ConfigError(`Empty backend URL. Use one of: ${EXAMPLES}.`);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  if (u.startsWith("postgres://") || u.startsWith("postgresql://")) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ConfigError(
        `Malformed Postgres URL ${JSON.stringify(u)}. Expected postgres://user[:password]@host[:port]/database[?schema=name].`,
        { url: u },
      );
    }
    const schema = parsed.searchParams.get("schema") ?? undefined;
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
      throw new ConfigError(
        `Invalid Postgres schema name ${JSON.stringify(schema)} in the backend URL; use letters, digits and "_".`,
        { url: u },
      );
    parsed.searchParams.delete("schema");
    const pools: { poolSize?: number; claimPoolSize?: number } = {};
    for (const [name, min] of Object.entries(POOL_PARAMS) as Array<[keyof typeof POOL_PARAMS, number]>) {
      const raw = parsed.searchParams.get(name);
      if (raw === null) continue;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < min)
        throw new ConfigError(
          `Invalid ${name} ${JSON.stringify(raw)} in the backend URL; use a whole number of connections, at least ${min}.`,
          { url: u },
        );
      pools[name] = n;
      parsed.searchParams.delete(name);
    }
    return { driver: "postgres", url: u, connectionString: parsed.toString(), ...(schema ? { schema } : {}), ...pools };
  }
  if (u.startsWith("memory:")) {
    const file = u.slice("memory:".length);
    return { driver: "memory", url: u, ...(file.length > 0 ? { snapshotFile: abs(file) } : {}) };
  }
  const m = /^(file|sqlite):(.*)$/.exec(u);
  if (!m) throw new ConfigError(`Unknown backend URL ${JSON.stringify(u)}. Use one of: ${EXAMPLES}.`, { url: u });
  let rest = m[2]!;
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (rest.startsWith("//")) rest = rest.slice(2); // file:///abs/path and sqlite://./x.db
  if (rest.length === 0)
    throw new ConfigError(
      `Backend URL ${JSON.stringify(u)} has no path. Use e.g. ${m[1]}:./.cairn/${m[1] === "file" ? "data" : "cairn.db"}.`,
      { url: u },
    );
  if (m[1] === "file") {
    const durability = new URLSearchParams(query).get("durability") ?? undefined;
    if (durability !== undefined && durability !== "fsync" && durability !== "none")
      throw new ConfigError(
        `Unknown durability ${JSON.stringify(durability)} in ${JSON.stringify(u)}; use ?durability=fsync (default) or ?durability=none.`,
        { url: u },
      );
    return { driver: "fs", url: u, dir: abs(rest), ...(durability ? { durability } : {}) };
  }
  return { driver: "sqlite", url: u, filename: rest === ":memory:" ? rest : abs(rest) };
}

const PACKAGES = {
  fs: "@cairn/backend-fs",
  sqlite: "@cairn/backend-sqlite",
  postgres: "@cairn/backend-postgres",
  memory: "@cairn/backend-memory",
} as const;
const CLASSES = {
  fs: "FileSystemBackend",
  sqlite: "SqliteBackend",
  postgres: "PostgresBackend",
  memory: "MemoryBackend",
} as const;

/** Loads a driver's module lazily; a missing driver is a ConfigError saying what to install. */
export async function loadDriver(driver: BackendTarget["driver"]): Promise<new (...args: never[]) => Backend> {
  const pkg = PACKAGES[driver];
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(
      `The ${driver} driver (${pkg}) is not installed or failed to load: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}. Run \`npm install ${pkg}\`, or pick another backend with --backend.`,
      { driver },
    );
  }
  const ctor = mod[CLASSES[driver]];
  if (typeof ctor !== "function")
    throw new ConfigError(
      `${pkg} does not export ${CLASSES[driver]} (the driver is not available in this version). Pick another backend with --backend, e.g. file:./.cairn/data.`,
      { driver },
    );
  return ctor as new (...args: never[]) => Backend;
}

/** True when the driver's module loads and exports its backend class. */
export async function isDriverAvailable(driver: BackendTarget["driver"]): Promise<boolean> {
  try {
    await loadDriver(driver);
    return true;
  } catch {
    return false;
  }
}

/** Opens (and initialises) the backend a URL names. */
export async function openBackend(url: string, options: { cwd?: string } = {}): Promise<Backend> {
  const target = parseBackendUrl(url, options.cwd);
  const Ctor = (await loadDriver(target.driver)) as unknown as new (...args: unknown[]) => Backend;
  let backend: Backend;
  // A directory that cannot be created is left to the driver, whose error says why (read-only, not a directory)
  // where mkdir's own would not (it reports ENOENT on a read-only filesystem).
  const mkdirp = (dir: string) =>
    mkdir(dir, { recursive: true }).then(
      () => {},
      () => {},
    );
  switch (target.driver) {
    case "fs":
      await mkdirp(target.dir);
      backend = new Ctor(target.dir, target.durability ? { durability: target.durability } : {});
      break;
    case "sqlite":
      if (target.filename !== ":memory:") await mkdirp(dirname(target.filename));
      backend = new Ctor(target.filename);
      break;
    case "postgres":
      backend = new Ctor({
        connectionString: target.connectionString,
        ...(target.schema ? { schema: target.schema } : {}),
        ...(target.poolSize === undefined ? {} : { poolSize: target.poolSize }),
        ...(target.claimPoolSize === undefined ? {} : { claimPoolSize: target.claimPoolSize }),
      });
      break;
    case "memory":
      backend = new Ctor(target.snapshotFile ? { snapshotFile: target.snapshotFile } : {});
      break;
  }
  try {
    await backend.initialize();
  } catch (err) {
    await backend.close().catch(() => {}); // a pool per failed attempt would pile up in a worker waiting for its backend
    throw err;
  }
  return backend;
}
