import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submit } from "@cairn/worker";
import { createDashboard } from "@cairn/dashboard";
import { freshStore, seed, type Seeded, type Store } from "./support/seeded-store.js";

// The handler as an application mounts it (app.fetch), over a real SQLite store with real runs.
let store: Store;
let seeded: Seeded;

beforeAll(async () => {
  store = await freshStore();
  seeded = await seed(store);
});
afterAll(async () => {
  await store?.cleanup();
});

const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});
const tokenOf = (page: string): string => /name="token" value="([^"]+)"/.exec(page)?.[1] ?? "";
const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

describe("createDashboard as a Fetch handler", () => {
  it("mounts under a base path: every link and asset carries it", async () => {
    const app = createDashboard({ backend: store.backend, basePath: "/ops/cairn" });
    const res = await app.fetch(new Request("http://x/ops/cairn/runs"));
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('href="/ops/cairn/runs/');
    expect(page).toContain('src="/ops/cairn/assets/htmx.min.js"');
    expect(
      (await app.fetch(new Request("http://x/ops/cairn/assets/htmx.min.js"))).headers.get("Content-Type"),
    ).toContain("javascript");
    expect((await app.fetch(new Request("http://x/runs"))).status).toBe(404);
    expect(() => createDashboard({ backend: store.backend, basePath: "/../x" })).toThrow(/basePath/);
  });

  it("serves only the assets of its table; a path sent by the browser never reaches the filesystem", async () => {
    const app = createDashboard({ backend: store.backend });
    for (const name of ["uPlot.iife.min.js", "uPlot.min.css", "dashboard.css", "dashboard.js"])
      expect((await app.fetch(new Request(`http://x/assets/${name}`))).status).toBe(200);
    for (const name of ["..%2F..%2Fpackage.json", "package.json", "%2Fetc%2Fpasswd"])
      expect((await app.fetch(new Request(`http://x/assets/${name}`))).status).toBe(404);
  });

  it("validates every input with the typed errors of the CLI", async () => {
    const app = createDashboard({ backend: store.backend });
    const cases: Array<[string, number, string]> = [
      ["/runs/..%2Fsecret", 400, "INVALID_IDENTIFIER"],
      ["/runs/run_doesnotexist", 404, "RUN_NOT_FOUND"],
      [`/runs/${seeded.etl}?step=a%2F..%2Fb`, 400, "INVALID_IDENTIFIER"],
      ["/runs?limit=100000", 400, "INVALID_ARGUMENT"],
      ["/runs?cursor=garbage", 400, "INVALID_ARGUMENT"],
      ["/runs?since=forever", 400, "INVALID_ARGUMENT"],
      ["/errors?strategy=fuzzy", 400, "INVALID_ARGUMENT"],
      ["/errors/not-a-fingerprint", 400, "INVALID_ARGUMENT"],
      ["/workflows/no-such-workflow", 404, "WORKFLOW_NOT_FOUND"],
      [`/runs/${seeded.etl}/confirm?action=rerun&step=nope`, 404, "STEP_NOT_FOUND"],
      [`/runs/${seeded.etl}/confirm?action=explode`, 400, "INVALID_ARGUMENT"],
    ];
    for (const [path, status, code] of cases) {
      const res = await app.fetch(new Request(`http://x${path}`));
      expect([path, res.status]).toEqual([path, status]);
      expect(await res.text()).toContain(code);
    }
  });

  it("escapes what the store holds: a tag with markup is shown as text", async () => {
    const { runId } = await submit(store.backend, { workflow: "hold", tags: ["<script>alert(1)</script>"] });
    const app = createDashboard({ backend: store.backend });
    const page = await (await app.fetch(new Request(`http://x/runs/${runId}`))).text();
    expect(page).not.toContain("<script>alert(1)</script>");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    await store.backend.cancelRun(runId);
  });

  it("basic auth: 401 without or with wrong credentials, 200 with them", async () => {
    const app = createDashboard({ backend: store.backend, auth: "ops:s3cret" });
    expect((await app.fetch(new Request("http://x/"))).status).toBe(401);
    expect((await app.fetch(new Request("http://x/", { headers: basic("ops", "wrong") }))).status).toBe(401);
    expect((await app.fetch(new Request("http://x/metrics"))).status).toBe(401);
    expect((await app.fetch(new Request("http://x/", { headers: basic("ops", "s3cret") }))).status).toBe(200);
  });

  it("actions need this dashboard's form token and a same-site request", async () => {
    const app = createDashboard({ backend: store.backend });
    const { runId } = await submit(store.backend, { workflow: "hold" });
    const confirm = await (await app.fetch(new Request(`http://x/runs/${runId}/confirm?action=cancel`))).text();
    const token = tokenOf(confirm);
    expect(token).not.toBe("");
    expect((await app.fetch(new Request(`http://x/runs/${runId}/actions`, form({ action: "cancel" })))).status).toBe(
      403,
    );
    expect(
      (await app.fetch(new Request(`http://x/runs/${runId}/actions`, form({ action: "cancel", token: "forged" }))))
        .status,
    ).toBe(403);
    const crossSite = form({ action: "cancel", token });
    expect(
      (
        await app.fetch(
          new Request(`http://x/runs/${runId}/actions`, {
            ...crossSite,
            headers: { ...crossSite.headers, "Sec-Fetch-Site": "cross-site" },
          }),
        )
      ).status,
    ).toBe(403);
    expect((await store.backend.getRun(runId))?.status).not.toBe("cancelled");
    const ok = await app.fetch(
      new Request(`http://x/runs/${runId}/actions`, form({ action: "cancel", token, reason: "done testing" })),
    );
    expect(ok.status).toBe(303);
    expect(ok.headers.get("Location")).toBe(`/runs/${runId}?done=cancelled`);
    const run = await store.backend.getRun(runId);
    expect(run?.status).toBe("cancelled");
    expect(run?.cancelReason).toBe("done testing");
  });

  it("read-only: no action is offered, and every action route answers 403 ACTIONS_DISABLED", async () => {
    const app = createDashboard({ backend: store.backend, readOnly: true });
    const page = await (await app.fetch(new Request(`http://x/runs/${seeded.reportFailed[0]}`))).text();
    expect(page).toContain("read-only");
    expect(page).not.toContain("action-retry");
    for (const path of [`/runs/${seeded.reportFailed[0]}/confirm?action=retry`, "/bulk/confirm?action=cancel"]) {
      const res = await app.fetch(new Request(`http://x${path}`));
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("ACTIONS_DISABLED");
    }
    const post = await app.fetch(
      new Request(`http://x/runs/${seeded.reportFailed[0]}/actions`, form({ action: "retry", token: "x" })),
    );
    expect(post.status).toBe(403);
    expect((await store.backend.getRun(seeded.reportFailed[0]!))?.status).toBe("failed");
  });

  it("bulk rerun of a filter's runs from a chosen step, one new run each", async () => {
    const app = createDashboard({ backend: store.backend });
    const confirm = await (
      await app.fetch(new Request("http://x/bulk/confirm?action=rerun&workflow=report&status=failed&tenant=acme"))
    ).text();
    expect(confirm).toContain("Rerun 2 run(s)");
    const res = await app.fetch(
      new Request(
        "http://x/bulk?workflow=report&status=failed&tenant=acme",
        form({ action: "rerun", step: "render", token: tokenOf(confirm) }),
      ),
    );
    const page = await res.text();
    expect(page).toContain("2 of 2 run(s) rerun.");
    const children = (await store.backend.listRuns({ workflowSlug: "report" })).filter((r) => r.parentRunId);
    expect(children.map((r) => r.parentRunId).sort()).toEqual([...seeded.reportFailed].sort());
    expect((await app.fetch(new Request("http://x/bulk/confirm?action=rerun"))).status).toBe(400); // a rerun needs a workflow
  });
});
