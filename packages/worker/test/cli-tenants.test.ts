/**
 * Tenants through the real CLI on a real SQLite file: `cairn submit --tenant` stamps the run, `cairn runs --tenant`
 * lists that tenant's runs only, and a tenant id that is not an identifier is a usage error that submits nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cairn } from "./support/cli-process.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows/", import.meta.url));
const json = <T = any>(text: string): T => JSON.parse(text) as T;

describe("cairn submit --tenant and cairn runs --tenant", () => {
  let tmp = "";
  let env: NodeJS.ProcessEnv = {};
  const run = (args: string[]) => cairn(args, { env });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "cairn-tenants-"));
    env = { CAIRN_BACKEND: `sqlite:${join(tmp, "cairn.db")}`, NO_COLOR: "1" };
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("stamps the tenant on submit and filters the list by it; a bad tenant id exits 2 and writes nothing", async () => {
    const a = await run([
      "submit",
      "hello",
      "--workflows",
      EXAMPLES,
      "--input",
      '{"name":"Ada"}',
      "--delay",
      "1h",
      "--tenant",
      "acme",
      "--json",
    ]);
    expect(a.code, a.stderr).toBe(0);
    const g = await run([
      "submit",
      "hello",
      "--input",
      '{"name":"Bo"}',
      "--delay",
      "1h",
      "--tenant",
      "globex",
      "--json",
    ]);
    expect(g.code, g.stderr).toBe(0);
    const none = await run(["submit", "hello", "--input", '{"name":"Cy"}', "--delay", "1h", "--json"]);
    expect(none.code, none.stderr).toBe(0);

    const acme = await run(["runs", "--tenant", "acme", "--json"]);
    expect(acme.code, acme.stderr).toBe(0);
    expect(json<Array<{ runId: string; tenantId: string }>>(acme.stdout).map((r) => [r.runId, r.tenantId])).toEqual([
      [json(a.stdout).runId, "acme"],
    ]);
    const shown = await run(["run", json(a.stdout).runId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/tenant\s+acme/);
    const all = await run(["runs", "--json"]);
    expect(json<unknown[]>(all.stdout)).toHaveLength(3);
    const empty = await run(["runs", "--tenant", "initech"]);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain("No runs match");

    const bad = await run(["submit", "hello", "--input", '{"name":"Di"}', "--tenant", "not valid"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--tenant");
    expect((await run(["runs", "--tenant", "a/b"])).code).toBe(2);
    expect(json<unknown[]>((await run(["runs", "--json"])).stdout)).toHaveLength(3);
  }, 60_000);
});
