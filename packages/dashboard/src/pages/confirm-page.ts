import { html } from "hono/html";
import {
  RunNotFoundError,
  StepNotFoundError,
  InvalidArgumentError,
  isTerminalRunStatus,
  type RunState,
} from "@cairn/backend-interface";
import { options } from "../html/form-controls.js";
import type { Html } from "../html/format.js";
import { layout } from "../html/layout.js";
import { filterQuery, type RunFilter } from "../run-filter.js";
import type { PageEnv } from "../page-env.js";
import { bulkSelection, MAX_BULK } from "../bulk-actions.js";

/** A single-run action the dashboard offers. */
export type RunAction = "cancel" | "retry" | "rerun";
/** A bulk action the dashboard offers. */
export type BulkAction = "cancel" | "rerun";

/** Parses the action name of a single-run form, or InvalidArgumentError. */
export function runActionInput(value: unknown): RunAction {
  if (value === "cancel" || value === "retry" || value === "rerun") return value;
  throw new InvalidArgumentError("action must be cancel, retry or rerun.");
}

/** Parses the action name of a bulk form, or InvalidArgumentError. */
export function bulkActionInput(value: unknown): BulkAction {
  if (value === "cancel" || value === "rerun") return value;
  throw new InvalidArgumentError("action must be cancel or rerun.");
}

const tokenField = (env: PageEnv): Html => html`<input type="hidden" name="token" value="${env.formToken}" />`;

/** Asks to confirm one action on one run, saying what it will record. */
export async function confirmRunPage(
  env: PageEnv,
  runId: string,
  action: RunAction,
  stepId: string | undefined,
): Promise<Html> {
  const { base, backend } = env;
  const run = await backend.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  if (action === "rerun") {
    if (!stepId) throw new InvalidArgumentError("rerun needs the step to rerun from (step).");
    const steps = await backend.loadRun(run.workflowSlug, runId);
    const defined = await backend.getWorkflowSteps(run.workflowSlug);
    if (!steps.some((s) => s.stepId === stepId) && !defined.some((s) => s.id === stepId))
      throw new StepNotFoundError(run.workflowSlug, runId, stepId);
  }
  const what = describe(run, action, stepId);
  const body = html`<h1>Confirm</h1>
    <p class="confirm-text" id="confirm-text">${what}</p>
    <form method="post" action="${base}/runs/${runId}/actions" id="confirm-form">
      ${tokenField(env)}
      <input
        type="hidden"
        name="action"
        value="${action}"
      />${stepId ? html`<input type="hidden" name="step" value="${stepId}" />` : ""}
      ${action === "rerun" ? "" : html`<label>reason <input name="reason" size="40" maxlength="500" /></label>`}
      <button type="submit" class="danger" id="confirm">Yes, ${action}</button>
      <a href="${base}/runs/${runId}">No, go back</a>
    </form>`;
  return layout(env, { title: "Confirm", active: "runs", body });
}

function describe(run: RunState, action: RunAction, stepId: string | undefined): string {
  const which = `run ${run.runId} of ${run.workflowSlug}`;
  if (action === "cancel" && isTerminalRunStatus(run.status)) {
    return `Run ${run.runId} has already ended (${run.status}); cancelling changes nothing.`;
  }
  if (action === "cancel")
    return `Cancel ${which}? Its running steps are aborted at their next heartbeat (WorkflowCancelled).`;
  if (action === "retry") {
    return `Retry ${which}? Its failed and skipped steps run again; completed results are kept (WorkflowRetryStarted).`;
  }
  return (
    `Rerun ${which} from step ${stepId}? A new run keeps the results of the steps that do not depend on it ` +
    "(WorkflowRerunFromStep)."
  );
}

/** Asks to confirm a bulk action on the runs a filter selects, with how many there are. */
export async function confirmBulkPage(env: PageEnv, f: RunFilter, action: BulkAction): Promise<Html> {
  const { base, backend } = env;
  if (action === "rerun" && !f.workflow) throw new InvalidArgumentError("A bulk rerun needs a workflow in the filter.");
  const { runs, more } = await bulkSelection(env, f, action);
  const steps = action === "rerun" && f.workflow ? await backend.getWorkflowSteps(f.workflow) : [];
  const back = `${base}/runs?${filterQuery(f)}`;
  const count = `${runs.length}${more ? "+" : ""}`;
  const what = action === "cancel" ? `Cancel ${count} open run(s)` : `Rerun ${count} run(s)`;
  const listed = runs.slice(0, 20).map((r) => html`<li><code>${r.runId}</code> ${r.workflowSlug} ${r.status}</li>`);
  const field =
    action === "rerun"
      ? html`<label
          >from step
          <select name="step">
            ${options(
              steps.map((s) => s.id),
              undefined,
            )}
          </select></label
        >`
      : html`<label>reason <input name="reason" size="40" maxlength="500" /></label>`;
  const form =
    runs.length === 0
      ? html`<p><a href="${back}">Back to the runs</a></p>`
      : html`<form method="post" action="${base}/bulk?${filterQuery(f)}" id="confirm-form">
          ${tokenField(env)} <input type="hidden" name="action" value="${action}" />${field}
          <button type="submit" class="danger" id="confirm">Yes, ${action} ${runs.length} run(s)</button>
          <a href="${back}">No, go back</a>
        </form>`;
  const body = html`<h1>Confirm bulk ${action}</h1>
    <p class="confirm-text" id="confirm-text">
      ${what} selected by this filter${more ? ` (at most ${MAX_BULK} at once)` : ""}.
    </p>
    <ul class="selected">
      ${listed}${runs.length > 20 ? html`<li>… ${runs.length - 20} more</li>` : ""}
    </ul>
    ${form}`;
  return layout(env, { title: "Confirm", active: "runs", body });
}
