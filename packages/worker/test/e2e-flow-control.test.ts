import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteBackend } from "@cairn/backend-sqlite";
import { discoverWorkflows } from "../src/index.js";
import { cairn, startWorkerProcess, until } from "./support/cli-process.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows", import.meta.url));
const FLOW_BAD = fileURLToPath(new URL("./fixtures/flow-bad", import.meta.url));

describe("flow control declarations", () => {
  it("bad declarations are discovery errors naming the file and the field", async () => {
    const { workflows, problems } = await discoverWorkflows(FLOW_BAD);
    expect(workflows).toEqual([]);
    const bySlug = new Map(problems.map((p) => [p.workflowSlug, p]));
    const expectProblem = (slug: string, pattern: RegExp) => {
      const p = bySlug.get(slug);
      expect(p?.file, slug).toBe(join(FLOW_BAD, slug, "workflow.ts"));
      expect(p?.message, slug).toMatch(pattern);
    };
    expectProblem("unknown-mode", /^mode: /);
    expectProblem("zero-limit", /concurrency\.limit: /);
    expectProblem(
      "missing-key",
      /the key "customer" is not a field of the workflow's input schema \(no field "customer"\)/,
    );
    expectProblem("two-keys", /concurrency\.key and rateLimit\.key differ/);
    expectProblem("bad-period", /debounce\.period must be a positive duration/);
    expectProblem("singleton-no-onbusy", /onBusy: mode "singleton" needs onBusy/);
  });
});

describe("flow control through the real CLI and worker (SQLite)", () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-flow-"));
    url = `sqlite:${join(dir, "cairn.db")}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("customer-sync: runs of one customer never overlap, other customers run alongside; refresh-cache drops a refresh while one runs", async () => {
    const worker = startWorkerProcess(["--workflows", EXAMPLES, "--backend", url, "--concurrency", "6"]);
    try {
      await until(
        "the worker registered the examples",
        async () => (await cairn(["workflows", "--json", "--backend", url])).stdout.includes("customer-sync"),
        30_000,
      );
      const submitted: string[] = [];
      for (const customerId of ["c1", "c2", "c1", "c1", "c2", "c3"]) {
        const r = await cairn([
          "submit",
          "customer-sync",
          "--input",
          JSON.stringify({ customerId }),
          "--json",
          "--backend",
          url,
        ]);
        expect(r.code, r.stderr).toBe(0);
        submitted.push((JSON.parse(r.stdout) as { runId: string }).runId);
      }
      const backend = new SqliteBackend(join(dir, "cairn.db"));
      await backend.initialize();
      try {
        // Two refreshes back to back (the CLI's start-up would let the first one finish before the second arrives).
        const refresh = [
          (await backend.submitRun({ workflowSlug: "refresh-cache" })).runId,
          (await backend.submitRun({ workflowSlug: "refresh-cache" })).runId,
        ];
        await until(
          "every sync run completed",
          async () =>
            (await Promise.all(submitted.map((id) => backend.getRun(id)))).every((r) => r?.status === "completed"),
          60_000,
        );
        const runs = (await Promise.all(submitted.map((id) => backend.getRun(id)))).map((r) => r!);
        const byCustomer = new Map<string, Array<{ start: number; end: number }>>();
        for (const r of runs)
          byCustomer.set(r.flowKey!, [
            ...(byCustomer.get(r.flowKey!) ?? []),
            { start: r.startedAtUs!, end: r.endedAtUs! },
          ]);
        expect([...byCustomer.keys()].sort()).toEqual(["c1", "c2", "c3"]);
        for (const [customer, spans] of byCustomer) {
          spans.sort((a, b) => a.start - b.start);
          for (let i = 1; i < spans.length; i++)
            expect(
              spans[i]!.start,
              `customer ${customer}: run ${i} started before run ${i - 1} ended`,
            ).toBeGreaterThanOrEqual(spans[i - 1]!.end);
        }
        // c1's three runs started in submission order.
        const c1 = runs.filter((r) => r.flowKey === "c1").map((r) => r.runId);
        const c1Starts = [...c1].sort(
          (a, b) => runs.find((r) => r.runId === a)!.startedAtUs! - runs.find((r) => r.runId === b)!.startedAtUs!,
        );
        expect(c1Starts).toEqual(c1);
        const dropped = (await backend.getRun(refresh[1]!))!;
        expect(dropped).toMatchObject({ status: "cancelled", flow: { decision: "dropped", relatedRunId: refresh[0] } });
        const shown = await cairn(["run", refresh[1]!, "--backend", url]);
        expect(shown.stdout).toMatch(/flow\s+dropped: a run of the same workflow and key is active/);
      } finally {
        await backend.close();
      }
    } finally {
      await worker.stop();
    }
  }, 120_000);
});
