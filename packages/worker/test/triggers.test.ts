/**
 * Triggers and schedules in the worker: bad declarations are discovery errors naming the file and the field;
 * `cairn emit` and `cairn schedules` through the real CLI against a real SQLite file. (The worker's maintenance
 * driving schedule ticks on the test kit's clock: packages/testing/test/triggers.test.ts.)
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { discoverWorkflows, maintenanceTick, openBackend, registerWorkflows } from "../src/index.js";
import { cairn, startWorkerProcess, until, type WorkerProcess } from "./support/cli-process.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows/", import.meta.url));
const json = <T = any>(text: string): T => JSON.parse(text) as T;

async function workflowFolder(root: string, slug: string, declaration: string): Promise<void> {
  await mkdir(join(root, slug, "steps"), { recursive: true });
  await writeFile(
    join(root, slug, "workflow.ts"),
    `import { defineWorkflow } from "@cairn/worker";\nexport default defineWorkflow({ name: "${slug}", ${declaration} });\n`,
  );
  await writeFile(
    join(root, slug, "steps", "s.ts"),
    `import { defineStep } from "@cairn/worker";\nexport default defineStep({ run: async () => 1 });\n`,
  );
}

describe("trigger declarations in discovery", () => {
  let dir = "";
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a bad cron expression, timezone, backfill or `on` is a discovery error naming the file and the field; good ones load", async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-triggers-"));
    const cases: Record<string, [string, RegExp]> = {
      "bad-cron": [`schedule: "every monday"`, /schedule: cron expression "every monday" does not parse/],
      "bad-cron-list": [
        `schedule: ["*/5 * * * *", "61 * * * *"]`,
        /schedule: cron expression "61 \* \* \* \*" does not parse/,
      ],
      "bad-tz": [`schedule: "0 9 * * *", timezone: "Mars/Olympus"`, /timezone: unknown timezone "Mars\/Olympus"/],
      "bad-backfill": [
        `schedule: "0 9 * * *", backfill: "a while"`,
        /backfill must be a duration such as "2h".*got "a while"/,
      ],
      "lonely-tz": [`timezone: "UTC"`, /timezone is set without a schedule/],
      "on-string": [`on: "order.created"`, /on must be a list of event names/],
      "on-bad-name": [`on: ["order.created", "has space"]`, /on: "has space" is not a valid event name/],
    };
    for (const [slug, [decl]] of Object.entries(cases)) await workflowFolder(dir, slug, decl);
    await workflowFolder(
      dir,
      "good",
      `on: ["order.created", "order.paid"], schedule: ["*/5 * * * *", "0 0 * * 0"], timezone: "Europe/Paris", backfill: "2h"`,
    );
    const { workflows, problems } = await discoverWorkflows(dir);
    expect(workflows.map((w) => w.slug)).toEqual(["good"]);
    expect(workflows[0]).toMatchObject({
      on: ["order.created", "order.paid"],
      schedule: { cron: ["*/5 * * * *", "0 0 * * 0"], timezone: "Europe/Paris", backfillMs: 7_200_000 },
    });
    for (const [slug, [, message]] of Object.entries(cases)) {
      const p = problems.find((x) => x.workflowSlug === slug);
      expect(p?.file, slug).toBe(join(dir, slug, "workflow.ts"));
      expect(p?.message, slug).toMatch(message);
    }
    expect(problems).toHaveLength(Object.keys(cases).length);
  });
});

describe("cairn emit and cairn schedules (real CLI, real SQLite)", () => {
  let dir = "";
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("emit starts the listening workflows once per id and refuses bad input writing nothing; schedules lists the last and next tick", async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-emit-"));
    const url = `sqlite:${join(dir, "cairn.db")}`;
    const env = { CAIRN_BACKEND: url, NO_COLOR: "1" };
    const listed = await cairn(["schedules", "--workflows", EXAMPLES], { env, timeoutMs: 60_000 });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/WORKFLOW\s+SCHEDULE\s+TIMEZONE/);
    expect(listed.stdout).toMatch(/nightly-report\s+0 6 \* \* \*\s+Europe\/Paris\s+never\s+\d{4}-\d\d-\d\d \d\d:00:00/);

    const first = await cairn(
      ["emit", "order.created", "--payload", '{"orderId":7,"total":3}', "--id", "o-7", "--json"],
      { env },
    );
    expect(first.code, first.stderr).toBe(0);
    const r1 = json(first.stdout);
    expect(r1).toMatchObject({
      event: "order.created",
      eventId: "o-7",
      runs: [{ workflowSlug: "order-created", isNew: true }],
    });
    const again = await cairn(["emit", "order.created", "--payload", '{"orderId":7,"total":3}', "--id", "o-7"], {
      env,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(r1.runs[0].runId);
    expect(again.stderr).toMatch(/emitted before; 0 new run\(s\), 1 already started/);
    const fresh = await cairn(["emit", "order.created", "--payload", '{"orderId":8,"total":3}'], { env });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).toMatch(/Emitted order\.created \(id evt-[0-9a-f-]+\); started 1 run\(s\): order-created/);
    const none = await cairn(["emit", "nobody.listens", "--json"], { env });
    expect(json(none.stdout).runs).toEqual([]);

    const notJson = await cairn(["emit", "order.created", "--payload", "{oops"], { env });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/--payload is not valid JSON/);
    const badName = await cairn(["emit", "order created", "--payload", "{}"], { env });
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/"order created" is not a valid event name/);
    const badInput = await cairn(["emit", "order.created", "--payload", '{"orderId":"x"}'], { env });
    expect(badInput.code).toBe(2);
    const conflict = await cairn(["emit", "order.created", "--payload", '{"orderId":9,"total":3}', "--id", "o-7"], {
      env,
    });
    expect(conflict.code).toBe(5);

    const backend = await openBackend(url);
    try {
      expect((await backend.listRuns({ workflowSlug: "order-created" })).length).toBe(2);
      // A schedule tick recorded by a host shows as the last tick (maintenanceTick, as a serverless host runs it).
      await registerWorkflows(backend, (await discoverWorkflows(EXAMPLES)).workflows);
      await maintenanceTick({ backend });
      const s = json((await cairn(["schedules", "--json"], { env })).stdout);
      expect(s).toMatchObject([{ workflowSlug: "nightly-report", cron: ["0 6 * * *"], timezone: "Europe/Paris" }]);
      expect(s[0].backfillMs).toBeUndefined();
      expect(s[0].lastTickUs).toBeTypeOf("number");
      expect(s[0].nextTickUs).toBeGreaterThan(Date.now() * 1000);
    } finally {
      await backend.close();
    }
  }, 120_000);
});

describe("three `cairn worker` processes ticking one schedule (real processes, real SQLite, real time)", () => {
  let dir = "";
  let workers: WorkerProcess[] = [];
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop("SIGTERM")));
    workers = [];
    await rm(dir, { recursive: true, force: true });
  });

  it("every second's tick starts exactly one run, none missed, however the three workers' maintenance interleaves", async () => {
    dir = await mkdtemp(join(tmpdir(), "cairn-ticks-"));
    const wfs = fileURLToPath(new URL("./fixtures/schedules/", import.meta.url));
    const url = `sqlite:${join(dir, "cairn.db")}`;
    // --stale-ms 400: each worker's maintenance (and so its schedule pass) runs every 200 ms.
    for (let i = 0; i < 3; i++)
      workers.push(
        startWorkerProcess(
          ["--workflows", wfs, "--stale-ms", "400", "--heartbeat-ms", "100", "--poll-ms", "50", "--quiet"],
          { env: { CAIRN_BACKEND: url } },
        ),
      );
    const backend = await openBackend(url);
    try {
      // First sight catches up the 30 s backfill window at once; then ten more seconds of ticks, live.
      await until(
        "forty scheduled runs",
        async () => (await backend.listRuns({ workflowSlug: "every-second" })).length >= 40,
        90_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${workers.map((w) => w.output()).join("\n---\n")}`);
      });
      await Promise.all(workers.map((w) => w.stop("SIGTERM")));
      const runs = await backend.listRuns({ workflowSlug: "every-second" });
      const ticks = runs
        .map((r) => Date.parse((JSON.parse(r.input!) as { scheduledAt: string }).scheduledAt) / 1000)
        .sort((a, b) => a - b);
      expect(new Set(ticks).size).toBe(ticks.length);
      expect(ticks.at(-1)! - ticks[0]!).toBe(ticks.length - 1); // one run per second, none skipped
      expect(new Set(runs.map((r) => r.idempotencyKey)).size).toBe(runs.length);
    } finally {
      await backend.close();
    }
  }, 120_000);
});
