import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cairn } from "./support/cli-process.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows/", import.meta.url));

describe("e2e: quick start on the embedded default, and backend configuration", () => {
  let cwd = "";
  const env = { CAIRN_BACKEND: "", CAIRN_WORKFLOWS: "" };
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), "cairn-quickstart-"));
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it("runs the README's example on the embedded default (SQLite at ./.cairn/cairn.db) and lists it in `cairn runs`", async () => {
    const r = await cairn(["submit", "hello", "--input", '{"name":"Ada"}', "--wait", "--workflows", EXAMPLES], {
      cwd,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ greet: { greeting: "Hello, Ada.", length: 11 } });
    const runs = await cairn(["runs"], { cwd, env });
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/hello\s+completed/);
    const success = await cairn(["analytics", "success", "--json"], { cwd, env });
    expect(success.code, success.stderr).toBe(0);
    expect(JSON.parse(success.stdout).runs.completed).toBe(1);
    const migrate = await cairn(["migrate", "--json"], { cwd, env });
    expect(JSON.parse(migrate.stdout).driver).toBe("SqliteBackend");
  }, 60_000);

  it("picks the backend from cairn.config.json, and CAIRN_BACKEND over it", async () => {
    await writeFile(join(cwd, "cairn.config.json"), JSON.stringify({ backend: "file:./.cairn/fs-data" }));
    const fromFile = await cairn(["migrate", "--json"], { cwd, env });
    expect(JSON.parse(fromFile.stdout).driver).toBe("FileSystemBackend");
    const fromEnv = await cairn(["migrate", "--json"], { cwd, env: { CAIRN_BACKEND: "sqlite:./.cairn/other.db" } });
    expect(JSON.parse(fromEnv.stdout).driver).toBe("SqliteBackend");
    await rm(join(cwd, "cairn.config.json"));
  }, 60_000);

  it("a malformed backend URL is a configuration error (exit 3) that says what to use", async () => {
    const r = await cairn(["runs", "--backend", "mysql://nope"], { cwd, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Unknown backend URL "mysql:\/\/nope"\. Use one of: file:/);
  }, 30_000);

  it("usage errors exit 2 with the command's usage; unknown runs exit 4", async () => {
    const bad = await cairn(["runs", "--status", "weird"], { cwd, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown --status "weird"/);
    const missing = await cairn(["run", "run_doesnotexist"], { cwd, env });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/does not exist/);
  }, 30_000);
});
