import type { Hono } from "hono";
import { intInput, fingerprintInput, runIdInput, stepIdInput, strategyInput, workflowInput } from "./request-input.js";
import { parseRunFilter } from "./run-filter.js";
import { ActionsDisabledError } from "./dashboard-errors.js";
import type { PageEnv } from "./page-env.js";
import { overviewPage } from "./pages/overview-page.js";
import { runsPage, runsTable } from "./pages/runs-page.js";
import { runPage } from "./pages/run-page.js";
import { errorPage, errorsPage } from "./pages/errors-page.js";
import { workflowPage, workflowsPage } from "./pages/workflows-page.js";
import { workersPage } from "./pages/workers-page.js";
import { bulkActionInput, confirmBulkPage, confirmRunPage, runActionInput } from "./pages/confirm-page.js";

/** What an action's redirect may say on the run page: a fixed set, so no request text is echoed. */
export const NOTICES = {
  cancelled: "The run was cancelled.",
  retried: "The run is being retried.",
  rerun: "This run is a rerun; it was just submitted.",
  unchanged: "The run had already ended; nothing changed.",
} as const;

/** Registers the read-only pages; every parameter is validated before any query. */
export function registerPages(app: Hono, env: PageEnv): void {
  app.get("/", async (c) => c.html(await overviewPage(env)));
  app.get("/runs", async (c) => {
    const f = parseRunFilter(c.req.queries());
    const live = c.req.query("live") === "1";
    if (c.req.query("fragment") === "table") return c.html(await runsTable(env, f, true));
    return c.html(await runsPage(env, f, live));
  });
  app.get("/runs/:runId", async (c) => {
    const runId = runIdInput(c.req.param("runId"));
    const step = c.req.query("step");
    const done = c.req.query("done");
    const notice = done && Object.hasOwn(NOTICES, done) ? NOTICES[done as keyof typeof NOTICES] : undefined;
    return c.html(await runPage(env, runId, step ? stepIdInput(step, "step") : undefined, notice));
  });
  app.get("/runs/:runId/confirm", async (c) => {
    if (env.readOnly) throw new ActionsDisabledError();
    const runId = runIdInput(c.req.param("runId"));
    const step = c.req.query("step");
    return c.html(
      await confirmRunPage(
        env,
        runId,
        runActionInput(c.req.query("action")),
        step ? stepIdInput(step, "step") : undefined,
      ),
    );
  });
  app.get("/bulk/confirm", async (c) => {
    if (env.readOnly) throw new ActionsDisabledError();
    return c.html(await confirmBulkPage(env, parseRunFilter(c.req.queries()), bulkActionInput(c.req.query("action"))));
  });
  app.get("/errors", async (c) =>
    c.html(
      await errorsPage(
        env,
        strategyInput(c.req.query("strategy")),
        intInput("offset", c.req.query("offset"), { min: 0, max: 1_000_000, fallback: 0 }),
      ),
    ),
  );
  app.get("/errors/:fingerprint", async (c) =>
    c.html(
      await errorPage(
        env,
        fingerprintInput(c.req.param("fingerprint")),
        strategyInput(c.req.query("strategy")),
        intInput("offset", c.req.query("offset"), { min: 0, max: 1_000_000, fallback: 0 }),
      ),
    ),
  );
  app.get("/workflows", async (c) => c.html(await workflowsPage(env)));
  app.get("/workflows/:slug", async (c) => c.html(await workflowPage(env, workflowInput(c.req.param("slug")))));
  app.get("/workers", async (c) => c.html(await workersPage(env)));
}
