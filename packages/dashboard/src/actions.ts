import type { Context, Hono } from "hono";
import { html } from "hono/html";
import { isTerminalRunStatus, RunNotFoundError } from "@cairn/backend-interface";
import { applyBulk, bulkSelection } from "./bulk-actions.js";
import { ActionsDisabledError, BadRequestOriginError } from "./dashboard-errors.js";
import { layout } from "./html/layout.js";
import type { PageEnv } from "./page-env.js";
import { bulkActionInput, runActionInput } from "./pages/confirm-page.js";
import { runIdInput, stepIdInput, textInput } from "./request-input.js";
import { filterQuery, parseRunFilter } from "./run-filter.js";

/** A form's string fields (files and repeated fields refused), after the read-only, origin and form-token checks. */
async function actionForm(c: Context, env: PageEnv): Promise<Record<string, string>> {
  if (env.readOnly) throw new ActionsDisabledError();
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined && site !== "same-origin" && site !== "none") throw new BadRequestOriginError();
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  if (out.token !== env.formToken) throw new BadRequestOriginError();
  return out;
}

/**
 * Registers the actions, each a POST from a confirmation page, recorded through the public Backend API as the
 * existing events: cancelRun (WorkflowCancelled), retryRun (WorkflowRetryStarted), rerunFrom (a new run with
 * WorkflowRerunFromStep), and the same for every run a filter selects.
 */
export function registerActions(app: Hono, env: PageEnv): void {
  const { backend, base } = env;
  app.post("/runs/:runId/actions", async (c) => {
    const form = await actionForm(c, env);
    const runId = runIdInput(c.req.param("runId"));
    const action = runActionInput(form.action);
    const reason = textInput("reason", form.reason);
    const run = await backend.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    if (action === "cancel") {
      if (isTerminalRunStatus(run.status)) return c.redirect(`${base}/runs/${runId}?done=unchanged`, 303);
      await backend.cancelRun(runId, reason ?? "cancelled from the dashboard");
      return c.redirect(`${base}/runs/${runId}?done=cancelled`, 303);
    }
    if (action === "retry") {
      await backend.retryRun(runId, reason ? { reason } : { reason: "retried from the dashboard" });
      return c.redirect(`${base}/runs/${runId}?done=retried`, 303);
    }
    const rerun = await backend.rerunFrom({ parentRunId: runId, fromStepId: stepIdInput(form.step, "step") });
    return c.redirect(`${base}/runs/${rerun.runId}?done=rerun`, 303);
  });
  app.post("/bulk", async (c) => {
    const form = await actionForm(c, env);
    const f = parseRunFilter(c.req.queries());
    const action = bulkActionInput(form.action);
    const stepId = action === "rerun" ? stepIdInput(form.step, "step") : undefined;
    const reason = textInput("reason", form.reason);
    const { runs } = await bulkSelection(env, f, action);
    const outcomes = await applyBulk(env, runs, action, {
      ...(stepId ? { stepId } : {}),
      ...(reason ? { reason } : {}),
    });
    const ok = outcomes.filter((x) => x.ok).length;
    const body = html`<h1>Bulk ${action}</h1>
      <p id="bulk-result">${ok} of ${outcomes.length} run(s) ${action === "cancel" ? "cancelled" : "rerun"}.</p>
      <table class="grid" id="bulk-outcomes">
        <thead>
          <tr>
            <th>run</th>
            <th>result</th>
          </tr>
        </thead>
        <tbody>
          ${outcomes.map(
            (x) =>
              html`<tr class="${x.ok ? "ok" : "refused"}">
                <td>
                  <a href="${base}/runs/${x.runId}"><code>${x.runId}</code></a>
                </td>
                <td>
                  ${x.ok && action === "rerun" ? html`new run <a href="${base}/runs/${x.detail}"><code>${x.detail}</code></a>` : x.detail}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      <p><a href="${base}/runs?${filterQuery(f)}">Back to the runs</a></p>`;
    return c.html(layout(env, { title: `Bulk ${action}`, active: "runs", body }));
  });
}
