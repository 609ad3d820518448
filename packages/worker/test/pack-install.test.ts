// The packages as an application gets them: built (tsc -b), packed with `npm pack`, installed from the tarballs into a
// fresh project outside the repository, then used from plain `node` (no tsx, no "@cairn/source" condition): the
// installed `cairn` CLI runs a TypeScript workflow without a build step, the client submits and reads runs back from
// the same SQLite file, the built declarations type-check an application, and a driver that is not installed is an
// error that says what to install.
//
// The tarballs' dependencies come from the npm registry through the local cache (`--prefer-offline`). Install scripts
// are skipped: the only one that matters, better-sqlite3's native build (1–2 min of C++ from source, the prebuilt
// binaries being on GitHub rather than the registry), is replaced by the addon this repository's own install built for
// the same better-sqlite3 version and Node (a different version is compiled with `npm rebuild` instead).
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PACKED = [
  "backend-interface",
  "backend-fs",
  "backend-sqlite",
  "backend-postgres",
  "backend-memory",
  "client",
  "dashboard",
  "worker",
];
/** What the application installs: SQLite only, so the worker and client must not need the other drivers. */
const INSTALLED = ["backend-interface", "backend-sqlite", "client", "dashboard", "worker"];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects on a non-zero exit (the caller checks `code`). */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs = 60_000,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Result> {
  // npm_* variables of an enclosing `npm test` would point the inner npm at this repository.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return new Promise((resolve) => {
    const options = { cwd, env: { ...env, NODE_OPTIONS: "", ...extraEnv }, timeout: timeoutMs, maxBuffer: 16 << 20 };
    execFile(cmd, args, options, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && code === 1 && !stderr ? String(err.message) : stderr });
    });
  });
}

const APP = `
import { createClient } from "@cairn/client";
import { startWorker } from "@cairn/worker";

const client = createClient({ backend: "sqlite:./.cairn/cairn.db", pollMs: 20 });
const [done] = await client.list({ workflow: "hello", status: ["completed"] });
const { runId } = await client.submit("hello", { name: "Bo", excited: true });
const pending = await client.get(runId); // read back before any worker ran it
// A worker from plain node: the workflow folder is TypeScript, so it registers tsx itself.
const worker = await startWorker({ backend: await client.backend(), workflowsDir: "./workflows", once: true, pollMs: 20 });
const ended = await client.wait(runId);
await worker.done;
await client.close();
console.log(JSON.stringify({
  done: done?.output,
  pending: { same: pending?.runId === runId, input: pending?.input },
  ended: { status: ended.status, output: ended.output },
}));
`;

const TYPED = `
import { z } from "zod";
import { createClient, type ClientRun } from "@cairn/client";
import { defineWorkflow } from "@cairn/worker";

const greet = defineWorkflow({ slug: "greet", name: "Greet", input: z.object({ name: z.string() }) });
const client = createClient({ backend: "sqlite:./x.db" });
export async function ok(): Promise<unknown> {
  const { runId } = await client.submit(greet, { name: "Ada" });
  const run: ClientRun = await client.wait(runId);
  return run.output;
}
// @ts-expect-error the input is checked against the declaration's schema
export const bad = () => client.submit(greet, { name: 1 });
`;

describe("pack and install: the packages from their tarballs, in a project outside the repository", () => {
  let dir = "";
  let app = "";
  let quickStart: Result = { code: -1, stdout: "", stderr: "" };
  const cairn = (args: string[]) =>
    run(process.execPath, [join(app, "node_modules/@cairn/worker/bin/cairn.js"), ...args], app);

  beforeAll(async () => {
    const build = await run("npm", ["run", "build"], ROOT, 180_000);
    expect(build.code, build.stderr + build.stdout).toBe(0);
    dir = await mkdtemp(join(tmpdir(), "cairn-pack-"));
    const workspaces = PACKED.flatMap((p) => ["-w", `packages/${p}`]);
    const packed = await run(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", dir, ...workspaces],
      ROOT,
    );
    expect(packed.code, packed.stderr).toBe(0);
    const list = JSON.parse(packed.stdout) as Array<{ name: string; filename: string }>;
    const files = new Map(list.map((p) => [p.name, join(dir, p.filename)]));
    app = join(dir, "app");
    await mkdir(app);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    const tarballs = INSTALLED.map((p) => files.get(`@cairn/${p}`)!);
    const flags = ["--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"];
    const installed = await run("npm", ["install", ...flags, ...tarballs], app, 120_000);
    expect(installed.code, installed.stderr).toBe(0);
    await provideSqliteAddon(app);
    await cp(join(ROOT, "examples/workflows/hello"), join(app, "workflows/hello"), { recursive: true });
    // The README's quick start, with the installed bin: registers hello and leaves one completed run for every test.
    quickStart = await cairn(["submit", "hello", "--input", '{"name":"Ada"}', "--wait", "--workflows", "workflows"]);
  }, 240_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("installs only what it needs: no Postgres or filesystem driver, no pg", async () => {
    for (const absent of ["@cairn/backend-postgres", "@cairn/backend-fs", "pg"]) {
      await expect(stat(join(app, "node_modules", absent)), absent).rejects.toMatchObject({ code: "ENOENT" });
    }
    const manifest = await readFile(join(app, "node_modules/@cairn/worker/package.json"), "utf8");
    const worker = JSON.parse(manifest) as { exports: Record<string, Record<string, string>> };
    expect(worker.exports["."]).toMatchObject({ types: "./dist/index.d.ts", default: "./dist/index.js" });
  });

  it("the installed cairn CLI runs a TypeScript workflow without a build step, and lists the run", async () => {
    expect(quickStart.code, quickStart.stderr).toBe(0);
    expect(JSON.parse(quickStart.stdout)).toEqual({ greet: { greeting: "Hello, Ada.", length: 11 } });
    const runs = await cairn(["runs"]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/hello\s+completed/);
    const help = await cairn(["--help"]);
    expect(help.stdout).toMatch(/Usage: cairn /);
  }, 60_000);

  it("plain node submits through @cairn/client to the same SQLite file and reads the runs back decoded", async () => {
    await writeFile(join(app, "app.mjs"), APP);
    const r = await run(process.execPath, ["app.mjs"], app);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      done: { greet: { greeting: "Hello, Ada.", length: 11 } },
      pending: { same: true, input: { name: "Bo", excited: true } },
      ended: { status: "completed", output: { greet: { greeting: "Hello, Bo!", length: 10 } } },
    });
  }, 60_000);

  it("a worker with --isolation process runs the TypeScript step files in child processes of the built entry", async () => {
    const sub = await cairn(["submit", "hello", "--input", '{"name":"Iso"}', "--json"]);
    expect(sub.code, sub.stderr).toBe(0);
    const { runId } = JSON.parse(sub.stdout) as { runId: string };
    const worker = await cairn([
      "worker",
      "--workflows",
      "workflows",
      "--once",
      "--isolation",
      "process",
      "--poll-ms",
      "50",
    ]);
    expect(worker.code, worker.stderr).toBe(0);
    const shown = await cairn(["run", runId, "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ run: { status: "completed" } });
  }, 60_000);

  it("the built declarations type-check an application (and reject a wrong input)", async () => {
    await writeFile(join(app, "typed.ts"), TYPED);
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["typed.ts"],
      }),
    );
    const tsc = await run(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"],
      app,
    );
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  }, 60_000);

  it("the CLI loads the TypeScript loader (tsx) only for commands that import workflow files", async () => {
    // Module hooks that note every module resolved from the tsx package, in a file named by TRACE.
    await writeFile(
      join(app, "trace-hooks.mjs"),
      `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes("/node_modules/tsx/")) appendFileSync(process.env.TRACE, r.url + "\\n");
  return r;
}`,
    );
    const registration = `import { register } from "node:module"; register("./trace-hooks.mjs", import.meta.url);`;
    await writeFile(join(app, "trace.mjs"), registration);
    const bin = join(app, "node_modules/@cairn/worker/bin/cairn.js");
    const loadsTsx = async (args: string[]): Promise<boolean> => {
      const trace = join(app, "trace.txt");
      await writeFile(trace, "");
      const r = await run(process.execPath, ["--import", "./trace.mjs", bin, ...args], app, 60_000, { TRACE: trace });
      expect(r.code, r.stderr).toBe(0);
      return (await readFile(trace, "utf8")).length > 0;
    };
    const runId = (JSON.parse((await cairn(["runs", "--json"])).stdout) as Array<{ runId: string }>)[0]!.runId;
    expect(await loadsTsx(["--help"])).toBe(false);
    expect(await loadsTsx(["runs"])).toBe(false);
    expect(await loadsTsx(["run", runId])).toBe(false);
    expect(await loadsTsx(["workflows", "--workflows", "workflows"])).toBe(true);
  }, 60_000);

  it("a driver that is not installed is a configuration error saying what to install", async () => {
    const r = await cairn(["runs", "--backend", "postgres://nobody@127.0.0.1:1/none"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Run `npm install @cairn\/backend-postgres`/);
  });
});

/** Puts better-sqlite3's native addon in place: the repository's build when the versions match, else a rebuild. */
async function provideSqliteAddon(app: string): Promise<void> {
  const version = async (root: string): Promise<string> => {
    const manifest = await readFile(join(root, "node_modules/better-sqlite3/package.json"), "utf8");
    return (JSON.parse(manifest) as { version: string }).version;
  };
  const addon = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";
  if ((await version(app)) === (await version(ROOT))) {
    await mkdir(join(app, "node_modules/better-sqlite3/build/Release"), { recursive: true });
    await cp(join(ROOT, addon), join(app, addon));
    return;
  }
  const rebuilt = await run("npm", ["rebuild", "better-sqlite3"], app, 300_000);
  expect(rebuilt.code, rebuilt.stderr).toBe(0);
}
