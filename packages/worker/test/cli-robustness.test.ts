/**
 * The CLI as a well-behaved Unix process, with real processes, pipes, files and servers: output into pipes arrives
 * whole, a reader that goes away never crashes it, a worker waits for a backend that is down, configuration mistakes
 * get typed errors saying what to do, and workflow folders load or say precisely why not.
 */
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBackend } from "../src/index.js";
import { postgresUrl } from "../../../test-support/postgres.js";
import { readOnlyDir } from "../../../test-support/read-only-dir.js";
import { CAIRN_BIN, cairn, startWorkerProcess, until } from "./support/cli-process.js";
import { registerManual } from "../../../test-support/register.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const HELLO = join(REPO, "examples", "workflows", "hello");
const NO_STACK = /EPIPE|Unhandled 'error'|\n\s+at /;

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "cairn-cli-robust-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh folder with a workflows/ sub-folder holding hello, resolving @cairn/worker and zod like a project would. */
async function project(name: string, packageJson: object | null): Promise<{ dir: string; workflows: string }> {
  const dir = join(tmp, name);
  await mkdir(join(dir, "workflows"), { recursive: true });
  if (packageJson) await writeFile(join(dir, "package.json"), JSON.stringify(packageJson));
  await symlink(join(REPO, "node_modules"), join(dir, "node_modules"));
  await cp(HELLO, join(dir, "workflows", "hello"), { recursive: true });
  return { dir, workflows: join(dir, "workflows") };
}

/** A TCP port nobody listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 1));
    });
  });
}

describe("output into pipes", () => {
  let url = "";
  beforeAll(async () => {
    url = `sqlite:${join(tmp, "many-runs.db")}`;
    const backend = await openBackend(url);
    try {
      await registerManual(backend, "wf");
      for (let i = 0; i < 600; i++)
        await backend.submitRun({
          workflowSlug: "wf",
          runId: `run-${String(i).padStart(4, "0")}`,
          input: { pad: "x".repeat(300), i },
          tags: ["bulk"],
        });
    } finally {
      await backend.close();
    }
  }, 60_000);

  it("a `runs --json` document far larger than a pipe's 64 KB buffer arrives whole", async () => {
    const r = await cairn(["runs", "--json", "--limit", "600", "--backend", url]);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.byteLength(r.stdout)).toBeGreaterThan(200_000);
    expect(JSON.parse(r.stdout)).toHaveLength(600);
  });

  it("a reader that stops reading (`| head`) ends the command normally: exit 0, no EPIPE stack", async () => {
    const child = spawn(process.execPath, [CAIRN_BIN, "runs", "--json", "--limit", "600", "--backend", url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.once("data", () => child.stdout.destroy()); // like `head -c 100`: read once, close the pipe
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toMatch(NO_STACK);
    expect(code, stderr).toBe(0);
  });

  it("a worker whose stdout reader went away keeps running steps, and stops cleanly", async () => {
    const { workflows } = await project("epipe-worker", { type: "module" });
    const backendUrl = `sqlite:${join(tmp, "epipe-worker.db")}`;
    const worker = startWorkerProcess(["--workflows", workflows, "--backend", backendUrl, "--json", "--poll-ms", "50"]);
    let stderr = "";
    worker.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve) =>
        worker.child.stdout!.once("data", () => {
          worker.child.stdout!.destroy();
          resolve();
        }),
      );
      const backend = await openBackend(backendUrl);
      try {
        for (const name of ["Ada", "Grace"]) {
          const { runId } = await backend.submitRun({ workflowSlug: "hello", input: { name } });
          await until(
            `run ${runId} to complete`,
            async () => (await backend.getRun(runId))?.status === "completed",
            20_000,
          );
        }
      } finally {
        await backend.close();
      }
      expect(worker.child.exitCode, stderr).toBeNull();
    } finally {
      const exit = await worker.stop("SIGTERM");
      expect(stderr).not.toMatch(NO_STACK);
      expect(exit.code, stderr).toBe(0);
    }
  }, 40_000);
});

describe("a worker started while its backend is down", () => {
  it("stays up, says it is waiting (attempt n, next in Xs) with back-off, and stops on SIGTERM", async () => {
    const { workflows } = await project("waiting-worker", { type: "module" });
    const port = await closedPort();
    const worker = startWorkerProcess([
      "--workflows",
      workflows,
      "--backend",
      `postgres://root@127.0.0.1:${port}/test`,
    ]);
    try {
      await until(
        "the second waiting message",
        async () => /\(attempt 2, next in \d+\.\ds\)/.test(worker.output()),
        15_000,
      );
      expect(worker.output()).toContain(
        `waiting for the backend at postgres://root@127.0.0.1:${port}/test (attempt 1, next in`,
      );
      expect(worker.output()).toMatch(/ECONNREFUSED/);
      expect(worker.child.exitCode, worker.output()).toBeNull();
    } finally {
      const exit = await worker.stop("SIGTERM");
      expect(exit.code, worker.output()).toBe(0);
      expect(worker.output()).toContain("stopped before the backend");
    }
  }, 30_000);
});

describe("configuration mistakes: typed errors that say what to do (exit 3)", () => {
  const pg = postgresUrl();
  it.skipIf(pg === null)("a Postgres database that does not exist names it and the createdb to run", async () => {
    const u = new URL(pg!);
    u.pathname = "/cairn_no_such_database";
    u.search = "";
    const r = await cairn(["runs", "--backend", u.toString()]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('Database "cairn_no_such_database" does not exist');
    expect(r.stderr).toMatch(/createdb .*cairn_no_such_database/);
  });

  it("a store under a regular file says that file is not a directory (fs and SQLite)", async () => {
    const file = join(tmp, "a-regular-file");
    await writeFile(file, "not a directory");
    for (const url of [`file:${join(file, "store")}`, `file:${file}`, `sqlite:${join(file, "cairn.db")}`]) {
      const r = await cairn(["runs", "--backend", url]);
      expect(r.code, `${url}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(`${file} is a file, not a directory`);
      expect(r.stderr).not.toMatch(/EEXIST|ENOTDIR/);
    }
  });

  it("a store on a read-only filesystem says so, not mkdir's ENOENT (fs and SQLite)", async (ctx) => {
    const ro = await readOnlyDir();
    if (ro.dir === null) {
      ctx.skip();
      return;
    }
    try {
      for (const url of [
        `file:${join(ro.dir, "store")}`,
        `sqlite:${join(ro.dir, "cairn.db")}`,
        `sqlite:${join(ro.dir, "sub", "cairn.db")}`,
      ]) {
        const r = await cairn(["runs", "--backend", url]);
        expect(r.code, `${url}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toContain(`${ro.dir} is on a read-only filesystem`);
        expect(r.stderr).not.toContain("ENOENT");
      }
    } finally {
      await ro.release();
    }
  });
});

describe("workflow folders", () => {
  it("a syntax error is reported with file:line:column, the compiler's message and the line", async () => {
    const { workflows } = await project("syntax-error", { type: "module" });
    await mkdir(join(workflows, "broken", "steps"), { recursive: true });
    await writeFile(
      join(workflows, "broken", "workflow.ts"),
      'import { defineWorkflow } from "@cairn/worker";\nexport default defineWorkflow({ name: "Broken" });\n',
    );
    const step = join(workflows, "broken", "steps", "oops.ts");
    await writeFile(
      step,
      'import { defineStep } from "@cairn/worker";\nexport default defineStep({\n  run: async () => {\n    const x = ;\n    return x;\n  },\n});\n',
    );
    const r = await cairn(["workflows", "--workflows", workflows, "--backend", `sqlite:${join(tmp, "syntax.db")}`]);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain(`${step}:4:15: syntax error: Unexpected ";"`);
    expect(r.stderr).toContain("    const x = ;");
    expect(r.stderr).not.toMatch(/Transform failed with 1 error:\s*$/m);
  });

  it('loads from a package without "type" (what npm init writes) and runs', async () => {
    const { dir, workflows } = await project("npm-init", {
      name: "my-workflows",
      version: "1.0.0",
      main: "index.js",
      license: "ISC",
    });
    const r = await cairn(
      [
        "submit",
        "hello",
        "--input",
        '{"name":"Ada"}',
        "--wait",
        "--workflows",
        workflows,
        "--backend",
        `sqlite:${join(tmp, "npm-init.db")}`,
      ],
      { cwd: dir },
    );
    expect(r.stderr).not.toContain("Cannot require() ES Module");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ greet: { greeting: "Hello, Ada.", length: 11 } });
  });
});
