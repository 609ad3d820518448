/**
 * Tracking below a step through the real worker and the real CLI on a real SQLite store: `ctx.call` records each call
 * of each attempt (in-process and in a step process), `cairn run` lists them with the run's AI usage, `cairn analytics
 * calls` and `cairn analytics usage` aggregate them, and the client returns them; `ctx.increment` from two parallel
 * steps and a retried attempt adds up to the run's counters exactly.
 */
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type CairnClient } from "@cairn/client";
import { cairn, startWorkerProcess, until, type WorkerProcess } from "./support/cli-process.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/tracking/tracked", import.meta.url));
const json = <T = any>(text: string): T => JSON.parse(text) as T;

for (const isolation of ["in-process", "process"] as const) {
  describe(`tracking through the worker (${isolation})`, () => {
    let tmp: string;
    let url: string;
    let worker: WorkerProcess;
    let client: CairnClient;
    const run = (args: string[]) => cairn(args, { env: { CAIRN_BACKEND: url, NO_COLOR: "1" } });

    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), "cairn-tracking-"));
      await mkdir(join(tmp, "workflows"));
      await symlink(FIXTURE, join(tmp, "workflows", "tracked"));
      url = `sqlite:${join(tmp, "cairn.db")}`;
      worker = startWorkerProcess(
        ["--workflows", join(tmp, "workflows"), "--isolation", isolation, "--poll-ms", "100"],
        { env: { CAIRN_BACKEND: url } },
      );
      client = createClient({ backend: url });
      await until(
        "the worker to register",
        async () => (await (await client.backend()).getWorkflowMetadata("tracked")) !== null,
        30_000,
      );
    }, 60_000);
    afterAll(async () => {
      await client?.close();
      expect((await worker?.stop("SIGTERM"))?.code, worker?.output()).toBe(0);
      await rm(tmp, { recursive: true, force: true });
    }, 30_000);

    it("records every call of every attempt, with outcome, summary, fingerprinted error and usage; cairn run, analytics and the client show them", async () => {
      const submitted = await run([
        "submit",
        "tracked",
        "--input",
        JSON.stringify({ pages: 3, failFirstAttempt: true }),
        "--wait",
        "--json",
      ]);
      expect(submitted.code, submitted.stderr + worker.output()).toBe(0);
      const runId = json(submitted.stdout).runId as string;

      const calls = await client.calls(runId, "fetch");
      // Each attempt: 3 pages, the failing call, the AI call; the failed first attempt's calls are kept under attempt 1.
      expect(calls.map((c) => [c.attemptNumber, c.operation, c.outcome])).toEqual(
        [1, 2].flatMap((a) => [
          [a, "GET /items", "ok"],
          [a, "GET /items", "ok"],
          [a, "GET /items", "ok"],
          [a, "GET /flaky", "error"],
          [a, "summarize", "ok"],
        ]),
      );
      const page = calls[0]!;
      expect(page.outputSummary!.length).toBeLessThanOrEqual(512);
      expect(page.outputSummary!.startsWith('{"page":1,"items":["item-1-0"')).toBe(true);
      expect(page.outputBytes).toBeGreaterThan(4000);
      expect(page.startedAtUs).toBeGreaterThan(0);
      const flaky = calls[3]!;
      expect(flaky.error).toMatchObject({ name: "Error", message: "upstream answered 503 to attempt 1" });
      expect(flaky.errorFingerprints?.messageHash).toEqual(expect.any(String));
      expect(calls[4]!.usage).toMatchObject({ model: "fake-gpt", inputTokens: 100, outputTokens: 20, costUsd: 0.003 });
      expect(await client.usage(runId)).toEqual({
        runId,
        byModel: [{ model: "fake-gpt", calls: 2, inputTokens: 300, outputTokens: 40, costUsd: 0.006 }],
        totals: { calls: 2, inputTokens: 300, outputTokens: 40, costUsd: 0.006 },
      });

      // Parallel steps add up; the failed first attempt's counts are replaced by the retry's, not added.
      expect((await client.get(runId))?.counters).toEqual({ audited: 5, enriched: 3, fetched: 1201, inserted: 2 });
      const steps = await client.steps(runId);
      expect(steps.find((st) => st.stepId === "fetch")?.progress).toMatchObject({
        attemptNumber: 2,
        fraction: 1,
        message: "page 3",
        items: { total: 1200, processed: 1200, succeeded: 1197, failed: 3 },
      });
      expect(steps.find((st) => st.stepId === "audit")?.progress).toMatchObject({
        fraction: 1,
        items: { total: 2000, processed: 2000 },
      });
      const backend = await client.backend();
      const auditLines = (await backend.loadStepLogs("tracked", runId, "audit")) ?? [];
      expect(auditLines.length).toBeGreaterThan(0);
      expect(auditLines.length, "2000 reports in a tight loop store a handful of lines").toBeLessThan(20);
      const shown = await run(["run", runId]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/completed\s+#2.*100% 1200\/1200 items \(1197 ok, 3 failed\) page 3/);
      expect(shown.stdout).toMatch(/counters\s+audited 5 · enriched 3 · fetched 1201 · inserted 2/);
      expect(shown.stdout).toMatch(/calls\n/);
      expect(shown.stdout).toMatch(/fetch\s+#1\s+fake_api\s+GET \/items\s+ok/);
      expect(shown.stdout).toMatch(
        /#2\s+fake_api\s+GET \/flaky\s+error\s+\S+\s+\S+\s+Error: upstream answered 503 to attempt 2/,
      );
      expect(shown.stdout).toMatch(/#1\s+llm\s+summarize\s+ok\s+\S+\s+\S+\s+fake-gpt 100\+20 tokens \$0\.003/);
      expect(shown.stdout).toMatch(/AI usage\n\s+fake-gpt\s+2 calls\s+300 in\s+40 out\s+\$0\.006/);
      const data = json((await run(["run", runId, "--json"])).stdout);
      expect(data.steps.find((s: { stepId: string }) => s.stepId === "fetch").calls).toHaveLength(10);
      expect(data.usage.totals).toEqual({ calls: 2, inputTokens: 300, outputTokens: 40, costUsd: 0.006 });

      // Nested steps: load (and its child parse) finished in attempt 1 and were replayed by attempt 2; publish failed,
      // then ran again. Calls, links and counts belong to the child that made them.
      const children = await client.children(runId, "enrich");
      expect(children.map((c) => [c.childId, c.parentChildId, c.attemptNumber, c.status])).toEqual([
        ["load/parse", "load", 1, "ok"],
        ["load", undefined, 1, "ok"],
        ["publish", undefined, 1, "error"],
        ["publish", undefined, 2, "ok"],
      ]);
      expect(children[2]!.error).toMatchObject({ message: "publish refused attempt 1" });
      expect(JSON.parse((await client.steps(runId)).find((st) => st.stepId === "enrich")!.output!)).toEqual({
        loaded: { parsed: [10, 20, 30], ranInAttempt: 1, childId: "load" },
        published: "published",
      });
      const enrichCalls = await client.calls(runId, "enrich");
      expect(enrichCalls.map((c) => [c.attemptNumber, c.childId, c.operation, c.outcome])).toEqual([
        [1, "load", "SELECT rows", "ok"],
        [1, "load/parse", "parse", "ok"],
        [1, "publish", "POST /publish", "error"],
        [2, "publish", "POST /publish", "ok"],
      ]);
      expect((await client.links(runId, "enrich")).map((l) => [l.attemptNumber, l.childId, l.entityId])).toEqual([
        [2, "publish", "r-1"],
      ]);
      expect(shown.stdout).toMatch(/enrich\s+retried\s+#1[^\n]*\n(?:.*\n)*?\s+completed\s+#2/);
      expect(shown.stdout).toMatch(
        /\n\s+└ load\s+ok\s+#1\s+\S+ \S+\s+\S+\s+1 call\n\s+└ parse\s+ok\s+#1\s+\S+ \S+\s+\S+\s+1 call\n\s+└ publish\s+ok\s+#2\s+\S+ \S+\s+\S+\s+1 call\n/,
      );
      expect(shown.stdout).toMatch(/enrich > load\/parse\s+#1\s+warehouse\s+parse\s+ok/);
      expect(shown.stdout).toMatch(/enrich > publish\s+#2\s+output\s+report:r-1/);
      const enrichJson = data.steps.find((s: { stepId: string }) => s.stepId === "enrich");
      expect(
        enrichJson.children.map((c: { childId: string; attemptNumber: number }) => `${c.childId}#${c.attemptNumber}`),
      ).toEqual(["load/parse#1", "load#1", "publish#1", "publish#2"]);
      expect(enrichJson.children[1].output).toEqual({ parsed: [10, 20, 30], ranInAttempt: 1, childId: "load" });

      const stats = json((await run(["analytics", "calls", "--json"])).stdout);
      expect(
        stats.calls.map(
          (c: { tool: string; operation: string; count: number; errorCount: number; errorRate: number }) => [
            c.tool,
            c.operation,
            c.count,
            c.errorCount,
            c.errorRate,
          ],
        ),
      ).toEqual([
        ["fake_api", "GET /flaky", 2, 2, 100],
        ["fake_api", "GET /items", 6, 0, 0],
        ["llm", "summarize", 2, 0, 0],
        ["warehouse", "SELECT rows", 1, 0, 0],
        ["warehouse", "parse", 1, 0, 0],
        ["webhook", "POST /publish", 2, 1, 50],
      ]);
      const human = await run(["analytics", "calls", "--since", "1h"]);
      expect(human.stdout).toMatch(/fake_api\s+GET \/items\s+6\s+0\s+0%/);
      const usage = json((await run(["analytics", "usage", "--json", "--workflow", "tracked"])).stdout);
      expect(usage.usage).toEqual([
        { workflowSlug: "tracked", model: "fake-gpt", calls: 2, inputTokens: 300, outputTokens: 40, costUsd: 0.006 },
      ]);
      expect((await run(["analytics", "usage", "--run", runId])).stdout).toMatch(/fake-gpt\s+2\s+300\s+40\s+\$0\.006/);
      expect((await run(["analytics", "usage", "--run", "run_missing"])).code).not.toBe(0);
      // Entity links both ways: the step's own, and which runs and steps touched an entity.
      expect((await client.links(runId, "fetch")).map((l) => [l.attemptNumber, l.entityId, l.externalId])).toEqual(
        [1, 2].flatMap((a) => [1, 2, 3].map((p) => [a, `item-${p}-0`, `ext-${p}`])),
      );
      const touching = await client.touching("item:item-1-0");
      expect(new Set(touching.map((l) => `${l.stepId}#${l.attemptNumber} ${l.linkType}`))).toEqual(
        new Set(["fetch#1 output", "fetch#2 output", "audit#1 input"]),
      );
      expect(shown.stdout).toMatch(/links\n/);
      expect(shown.stdout).toMatch(/fetch\s+#2\s+output\s+item:item-3-0\s+ext-3/);
      const byEntity = await run(["runs", "--entity", "item:item-1-0"]);
      expect(byEntity.code, byEntity.stderr).toBe(0);
      expect(byEntity.stdout).toContain(runId);
      expect(byEntity.stdout).toMatch(/(fetch \(output\), audit \(input\)|audit \(input\), fetch \(output\))/);
      const byEntityJson = json((await run(["runs", "--entity", "item:item-2-0", "--json"])).stdout);
      expect(byEntityJson.map((r: { runId: string }) => r.runId)).toEqual([runId]);
      expect(byEntityJson[0].touchedBy.map((l: { stepId: string }) => l.stepId)).toEqual(["fetch", "fetch"]);
      expect((await run(["runs", "--entity", "item:nothing"])).stderr).toContain("No run touched item:nothing");
      expect((await run(["runs", "--entity", "no-colon"])).code).not.toBe(0);
      const counters = json((await run(["analytics", "counters", "--json"])).stdout);
      expect(counters.counters).toEqual([
        { workflowSlug: "tracked", counter: "audited", total: 5, runs: 1 },
        { workflowSlug: "tracked", counter: "enriched", total: 3, runs: 1 },
        { workflowSlug: "tracked", counter: "fetched", total: 1201, runs: 1 },
        { workflowSlug: "tracked", counter: "inserted", total: 2, runs: 1 },
      ]);
      expect((await run(["analytics", "counters"])).stdout).toMatch(/tracked\s+fetched\s+1201\s+1/);
    }, 90_000);
  });
}
