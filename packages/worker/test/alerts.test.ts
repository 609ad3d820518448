import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { ManualClock, type Backend } from "@cairn/backend-interface";
import { SqliteBackend } from "@cairn/backend-sqlite";
import { FileSystemBackend } from "@cairn/backend-fs";
import { PostgresBackend } from "@cairn/backend-postgres";
import { MemoryBackend } from "@cairn/backend-memory";
import { freshSchema, postgresUrl } from "../../../test-support/postgres.js";
import { alertRuleProblems, runAlertPass, type AlertRule } from "../src/index.js";

/** Two backends on one store (two workers' views of it), and how to remove the store. */
type Pair = { a: Backend; b: Backend; cleanup: () => Promise<void> };
const DRIVERS: Record<string, (dir: string, clock: ManualClock) => Promise<Pair>> = {
  sqlite: async (dir, clock) => ({
    a: new SqliteBackend(join(dir, "cairn.db"), { clock }),
    b: new SqliteBackend(join(dir, "cairn.db"), { clock }),
    cleanup: async () => {},
  }),
  fs: async (dir, clock) => ({
    a: new FileSystemBackend(dir, { clock, durability: "none" }),
    b: new FileSystemBackend(dir, { clock, durability: "none" }),
    cleanup: async () => {},
  }),
  memory: async (_dir, clock) => {
    const name = `alerts-${randomUUID()}`;
    return { a: new MemoryBackend({ name, clock }), b: new MemoryBackend({ name, clock }), cleanup: async () => {} };
  },
  postgres: async (_dir, clock) => {
    const { schema, url, drop } = await freshSchema("alerts");
    return {
      a: new PostgresBackend({ connectionString: url, schema, clock, poolSize: 2 }),
      b: new PostgresBackend({ connectionString: url, schema, clock, poolSize: 2 }),
      cleanup: drop,
    };
  },
};

const WF = "wf";
const MIN = 60_000;

describe.each(Object.keys(DRIVERS).filter((d) => d !== "postgres" || postgresUrl() !== null))(
  "alerts on %s: webhooks posted once, whatever the number of workers (a local HTTP server)",
  (driver) => {
    let dir = "";
    let clock: ManualClock;
    let a: Backend;
    let b: Backend;
    let cleanup: () => Promise<void>;
    let server: Server;
    let url = "";
    const received: Array<Record<string, unknown>> = [];

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "cairn-alerts-"));
      clock = new ManualClock(Date.UTC(2026, 0, 1) * 1000);
      ({ a, b, cleanup } = await DRIVERS[driver]!(dir, clock));
      await a.initialize();
      await b.initialize();
      await a.registerWorkflow({ slug: WF, name: WF, steps: [] });
      received.length = 0;
      server = createServer((req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
          received.push(JSON.parse(body) as Record<string, unknown>);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    });
    afterEach(async () => {
      await a.close();
      await b.close();
      await new Promise((r) => server.close(r));
      await cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    /** A run whose only step fails terminally with `message` now. */
    async function failure(message: string): Promise<void> {
      const { runId } = await a.submitRun({ workflowSlug: WF });
      await a.scheduleStep(WF, runId, "s", { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 });
      const claimed = await a.claimScheduledStep(WF, runId, "s", "w", {
        dependencies: [],
        timestamp: 0,
        attemptNumber: 0,
      });
      await a.saveStepFailed(
        WF,
        runId,
        "s",
        { name: "Error", message },
        { duration: 1, attemptNumber: claimed!.attemptNumber, terminal: true, failureReason: "execution-error" },
      );
    }

    /** One pass by each of the two workers in the same slot, then the clock moves to the next slot. */
    async function passes(rules: AlertRule[]): Promise<void> {
      await runAlertPass(a, rules, { holder: "w1", everyMs: MIN });
      await runAlertPass(b, rules, { holder: "w2", everyMs: MIN });
      clock.advanceMs(MIN);
    }

    it("new-error-group: one post per new fingerprint, never again for it", async () => {
      const rules: AlertRule[] = [{ on: "new-error-group", webhook: url }];
      await failure("connection refused to db-1");
      await passes(rules);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        alert: "new-error-group",
        errorName: "Error",
        errorMessage: "connection refused to db-1",
        count: 1,
      });
      await failure("connection refused to db-1");
      await passes(rules);
      await passes(rules);
      expect(received).toHaveLength(1);
      await failure("disk full");
      await passes(rules);
      expect(received.map((r) => r.errorMessage)).toEqual(["connection refused to db-1", "disk full"]);
    });

    it("error-group-regressed: a group back after its quiet period is posted once per regression", async () => {
      const rules: AlertRule[] = [{ on: "error-group-regressed", webhook: url, threshold: 3_600_000 }];
      await failure("timeout calling billing");
      await passes(rules);
      expect(received).toEqual([]); // new, not regressed
      clock.advanceMs(2 * 3_600_000);
      await failure("timeout calling billing");
      await passes(rules);
      await passes(rules);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        alert: "error-group-regressed",
        errorMessage: "timeout calling billing",
        quietMs: 3_600_000,
      });
    });

    it("queue-backlog: one post per crossing of the threshold", async () => {
      const rules: AlertRule[] = [{ on: "queue-backlog", webhook: url, threshold: 3 }];
      const runs: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { runId } = await a.submitRun({ workflowSlug: WF });
        await a.scheduleStep(WF, runId, "s", { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 });
        runs.push(runId);
      }
      await passes(rules);
      await passes(rules);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ alert: "queue-backlog", readySteps: 3, threshold: 3 });
      await a.cancelRun(runs[0]!);
      await passes(rules); // below: the crossing is over
      const { runId } = await a.submitRun({ workflowSlug: WF });
      await a.scheduleStep(WF, runId, "s", { availableAt: clock.nowUs(), reason: "initial", attemptNumber: 1 });
      await passes(rules);
      expect(received).toHaveLength(2);
    });
  },
);

describe("alerts: config", () => {
  it("config problems say what is expected", () => {
    expect(alertRuleProblems(undefined)).toEqual([]);
    expect(alertRuleProblems([{ on: "new-error-group", webhook: "http://127.0.0.1:9/hook" }])).toEqual([]);
    expect(alertRuleProblems({})).toEqual([expect.stringContaining("alerts must be an array")]);
    expect(alertRuleProblems([{ on: "fire", webhook: "ftp://x", threshold: -1 }])).toEqual([
      expect.stringContaining("alerts[0].on must be one of new-error-group, error-group-regressed, queue-backlog"),
      expect.stringContaining("alerts[0].webhook must be an http(s) URL"),
      expect.stringContaining("alerts[0].threshold must be a positive number"),
    ]);
  });
});
