import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { submit } from "@cairn/worker";
import { serveDashboard, type DashboardServer } from "@cairn/dashboard";
import { launchChromium, type TestBrowser } from "./support/browser.js";
import { CAIRN_BIN, EXAMPLES_DIR, cairn, freshStore, seed, type Seeded, type Store } from "./support/seeded-store.js";

// One store with real runs (drained by real `cairn worker` processes), one dashboard, one Chromium for the file.
let store: Store;
let seeded: Seeded;
let server: DashboardServer;
let chromium: TestBrowser;
let page: Page;

beforeAll(async () => {
  store = await freshStore();
  seeded = await seed(store);
  server = await serveDashboard({ backend: store.backend, port: 0 });
  chromium = await launchChromium();
  page = await chromium.context.newPage();
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  await store?.cleanup();
});

const rowsOf = (p: Page) => p.locator("#runs-table tbody tr[data-run]");

describe("dashboard pages in Chromium", () => {
  it("overview: outcomes, queue, the runs chart drawn by uPlot, top error groups", async () => {
    await page.goto(server.url + "/");
    expect(await page.locator("#card-success .card-hint").textContent()).toContain("2 failed");
    await page.waitForSelector("#runs-chart[data-drawn] canvas");
    expect(await page.locator("#top-errors").textContent()).toContain("template weekly.tpl is missing");
  });

  it("runs: filters by workflow, status and tenant with the form, then pages with the cursor", async () => {
    await page.goto(server.url + "/runs");
    expect(await rowsOf(page).count()).toBe(9);
    await page.selectOption("select[name=workflow]", "report");
    await page.check("input[name=status][value=failed]");
    await page.click("#apply-filter");
    await page.waitForURL(/workflow=report/);
    expect((await rowsOf(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run")))).sort()).toEqual(
      [...seeded.reportFailed].sort(),
    );
    await page.fill("input[name=tenant]", "nobody");
    await page.click("#apply-filter");
    expect(await page.locator("#runs-table td.empty").textContent()).toContain("No run matches");

    await page.goto(server.url + "/runs?limit=4");
    const ids = () => rowsOf(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-run")));
    // A click resolves before the next page has loaded: wait for its URL (and its load event) before reading rows.
    const nextPage = async () => {
      const before = page.url();
      await page.click("#next-page");
      await page.waitForURL((url) => url.toString() !== before);
    };
    const first = await ids();
    await nextPage();
    const second = await ids();
    await nextPage();
    const third = await ids();
    expect(first).toHaveLength(4);
    expect(second).toHaveLength(4);
    expect(third).toHaveLength(1);
    expect(new Set([...first, ...second, ...third]).size).toBe(9);
    expect(await page.locator("#next-page").count()).toBe(0);
  });

  it("runs: a bad filter answers with the typed error, not a query", async () => {
    const response = await page.goto(server.url + "/runs?status=exploded&workflow=../../etc");
    expect(response?.status()).toBe(400);
    expect(await page.locator(".error-code").textContent()).toMatch(/INVALID_(ARGUMENT|IDENTIFIER)/);
  });

  it("runs: live refresh shows a run submitted after the page loaded", async () => {
    await page.goto(server.url + "/runs?workflow=hello&live=1");
    expect(await rowsOf(page).count()).toBe(3);
    const { runId } = await submit(store.backend, { workflow: "hello", input: { name: "Live" } });
    await page.waitForSelector(`#runs-table tr[data-run="${runId}"]`, { timeout: 8000 });
    expect(["pending", "running"]).toContain(await page.locator(`tr[data-run="${runId}"]`).getAttribute("data-status"));
    await store.backend.cancelRun(runId, "test done");
  });

  it("run detail: clicking the timeline bar of a failed step shows its attempts, error and stack", async () => {
    const runId = seeded.reportFailed[0]!;
    await page.goto(`${server.url}/runs/${runId}`);
    expect(await page.locator("#run-status [data-status]").getAttribute("data-status")).toBe("failed");
    expect(await page.locator("svg.timeline a.bar-link[data-step=render]").count()).toBe(2); // two attempts
    await page.locator("svg.timeline a.bar-link[data-step=fetch]").first().click();
    await page.waitForURL(/step=fetch/);
    expect(await page.locator("#step-panel").getAttribute("data-step")).toBe("fetch");
    expect(await page.locator("#step-logs").textContent()).toContain("fetched 3 rows");
    expect(await page.locator("#step-checkpoints").textContent()).toContain("rows");
    await page.locator("svg.timeline a.bar-link[data-step=render][data-attempt='2']").click();
    await page.waitForURL(/step=render/);
    const panel = page.locator("#step-panel");
    expect(await panel.locator("tr[data-attempt]").count()).toBe(2);
    expect(await panel.locator(".error-text").first().textContent()).toBe("template weekly.tpl is missing");
    await panel.locator("details summary").first().click();
    expect(await panel.locator("pre.stack").first().textContent()).toContain("render.ts");
    await page.click("#raw-events summary");
    expect(await page.locator("#raw-events pre").textContent()).toContain('"type":"WorkflowFailed"');
  });

  it("run detail: a retried step shows each attempt on the timeline", async () => {
    await page.goto(`${server.url}/runs/${seeded.flaky}?step=call-api`);
    expect(await page.locator("svg.timeline .bar-retried").count()).toBe(2);
    expect(await page.locator("svg.timeline .bar-completed").count()).toBe(1);
  });

  it("error groups: a group lists its occurrences, each linking to its run", async () => {
    // The store's own grouping is the reference: the page must show the same figures.
    const { errors } = await store.backend.getErrorsList({ groupingStrategy: "normalized" });
    const expected = errors
      .filter((g) => g.errorMessage === "template weekly.tpl is missing")
      .sort((a, b) => b.count - a.count)[0]!;
    await page.goto(server.url + "/errors");
    const group = page.locator(`#error-groups tr[data-fingerprint="${expected.fingerprint}"]`);
    expect(await group.locator("td.count").textContent()).toBe(String(expected.count));
    expect(await group.locator("svg.sparkline rect").count()).toBe(24);
    await group.locator("a").first().click();
    expect(await page.locator("#error-count").textContent()).toBe(String(expected.count));
    await page.locator("#occurrences a").first().click();
    await page.waitForURL(/\/runs\/run_/);
    expect(seeded.reportFailed).toContain(await page.locator("#run-id").textContent());
  });

  it("workflows: the DAG, versions and input schema of a workflow", async () => {
    await page.goto(server.url + "/workflows");
    await page.click("#workflows a[href$='/workflows/etl']");
    await page.waitForURL(/\/workflows\/etl/); // the click resolves before the page has loaded
    expect(
      await page.locator("svg.dag g.node").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-step"))),
    ).toEqual(["extract", "transform/clean", "transform/enrich", "load"]);
    expect(await page.locator("svg.dag line.edge").count()).toBe(4);
    expect(await page.locator("#versions tr.current").count()).toBe(1);
    expect(await page.locator("#input-schema").textContent()).toContain('"rows"');
  });

  it("workers: the two worker processes that drained the store, stopped", async () => {
    await page.goto(server.url + "/workers");
    expect(
      await page
        .locator("#workers tr[data-worker]")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-state"))),
    ).toEqual(["stopped", "stopped"]);
  });

  it("actions: retry a failed run, confirmed, records a new workflow attempt", async () => {
    const runId = seeded.reportFailed[1]!;
    await page.goto(`${server.url}/runs/${runId}`);
    await page.click("#action-retry");
    expect(await page.locator("#confirm-text").textContent()).toContain("Retry run");
    await page.click("#confirm");
    await page.waitForURL(/done=retried/);
    expect(await page.locator("#notice").textContent()).toContain("being retried");
    const run = await store.backend.getRun(runId);
    expect(run?.workflowAttemptNumber).toBe(2);
    expect(["pending", "running"]).toContain(run?.status);
    const events = await store.backend.loadEvents("report", runId, { category: "workflow" });
    expect(events.some((e) => e.type === "WorkflowRetryStarted")).toBe(true);
  });

  it("actions: rerun from a chosen step opens the new run", async () => {
    await page.goto(`${server.url}/runs/${seeded.reportOk}`);
    await page.selectOption("#rerun-form select[name=step]", "render");
    await page.click("#action-rerun");
    await page.click("#confirm");
    await page.waitForURL(/done=rerun/);
    const child = await store.backend.getRun((await page.locator("#run-id").textContent())!);
    expect(child?.parentRunId).toBe(seeded.reportOk);
    expect(child?.rerunStepIds).toEqual(["publish", "render"]);
  });

  it("actions: bulk cancel of the runs a filter selects", async () => {
    const held = await Promise.all(
      [1, 2, 3].map(async () => (await submit(store.backend, { workflow: "hold" })).runId),
    );
    await page.goto(`${server.url}/runs?workflow=hold`);
    await page.click("#bulk-cancel");
    expect(await page.locator("#confirm-text").textContent()).toContain("Cancel 3 open run(s)");
    await page.click("#confirm");
    expect(await page.locator("#bulk-result").textContent()).toBe("3 of 3 run(s) cancelled.");
    for (const id of held) expect((await store.backend.getRun(id))?.status).toBe("cancelled");
  });
});

describe("cairn dashboard on the quick start's store", () => {
  it("shows the README's example run in Chromium", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cairn-dashboard-quickstart-"));
    const env = { ...process.env, CAIRN_BACKEND: "", CAIRN_WORKFLOWS: "" };
    try {
      // The quick start, as the README gives it: SQLite at ./.cairn/cairn.db, run to the end with a worker in-process.
      const submitted = await cairn(
        ["submit", "hello", "--input", '{"name":"Ada"}', "--wait", "--workflows", EXAMPLES_DIR],
        60_000,
        { cwd, env },
      );
      expect(submitted.code, submitted.output).toBe(0);
      const child = spawn(process.execPath, [CAIRN_BIN, "dashboard", "--port", "0", "--json"], {
        cwd,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = "";
          child.stdout.on("data", (d: Buffer) => {
            out += d.toString();
            const m = /"url":"([^"]+)"/.exec(out);
            if (m) resolve(m[1]!);
          });
          child.stderr.on("data", (d: Buffer) => {
            out += d.toString();
          });
          child.on("close", (code) => reject(new Error(`cairn dashboard exited ${code}: ${out}`)));
        });
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // localhost by default
        await page.goto(`${url}/runs`);
        const rows = page.locator("#runs-table tbody tr[data-run]");
        expect(await rows.count()).toBe(1);
        expect(await rows.first().getAttribute("data-status")).toBe("completed");
        await rows.first().locator("a").first().click();
        await page.waitForURL(/\/runs\/run_/);
        expect(await page.locator("pre.json").last().textContent()).toContain('"greeting": "Hello, Ada."');
      } finally {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("close", r));
      }
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
