import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cairn } from "./support/cli-process.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows", import.meta.url));

describe("cairn cleanup (SQLite, through the real CLI)", () => {
  let dir: string;
  let backend: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-cleanup-"));
    backend = `sqlite:${join(dir, "cairn.db")}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("lists with --dry-run, keeps runs younger than --older-than, deletes the rest, and refuses live statuses", async () => {
    for (const name of ["Ada", "Bo"]) {
      const r = await cairn([
        "submit",
        "hello",
        "--input",
        JSON.stringify({ name }),
        "--wait",
        "--workflows",
        EXAMPLES,
        "--backend",
        backend,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const runs = JSON.parse((await cairn(["runs", "--json", "--backend", backend])).stdout) as Array<{ runId: string }>;
    expect(runs).toHaveLength(2);

    const dry = await cairn(["cleanup", "--older-than", "0s", "--dry-run", "--json", "--backend", backend]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(new Set((JSON.parse(dry.stdout) as { runIds: string[] }).runIds)).toEqual(new Set(runs.map((r) => r.runId)));
    expect(JSON.parse((await cairn(["runs", "--json", "--backend", backend])).stdout)).toHaveLength(2);

    const young = await cairn(["cleanup", "--older-than", "1d", "--backend", backend]);
    expect(young.code, young.stderr).toBe(0);
    expect(young.stderr).toContain("Deleted 0 run(s)");

    const live = await cairn(["cleanup", "--older-than", "0s", "--status", "running", "--backend", backend]);
    expect(live.code).toBe(2);
    expect(live.stderr).toContain("only ended runs are deleted");

    const done = await cairn(["cleanup", "--older-than", "0s", "--backend", backend]);
    expect(done.code, done.stderr).toBe(0);
    expect(new Set(done.stdout.trim().split("\n"))).toEqual(new Set(runs.map((r) => r.runId)));
    expect(JSON.parse((await cairn(["runs", "--json", "--backend", backend])).stdout)).toEqual([]);
    const gone = await cairn(["run", runs[0]!.runId, "--backend", backend]);
    expect(gone.code).not.toBe(0);
  });
});
