import { isCairnError, type RunState } from "@cairn/backend-interface";
import type { RunFilter } from "./run-filter.js";
import { selectRuns } from "./runs-query.js";
import type { PageEnv } from "./page-env.js";

/** Most runs one bulk action touches; the page says when the filter selects more. */
export const MAX_BULK = 500;

/** The outcome of a bulk action for one run. */
export interface BulkOutcome {
  runId: string;
  ok: boolean;
  /** The new run of a rerun, or the error's stable code and message. */
  detail: string;
}

/** The runs a bulk action applies to: a cancel only to open runs (pending, running) of the filter. */
export async function bulkSelection(
  env: PageEnv,
  f: RunFilter,
  action: "cancel" | "rerun",
): Promise<{ runs: RunState[]; more: boolean }> {
  const open = f.status.length
    ? f.status.filter((s) => s === "pending" || s === "running")
    : (["pending", "running"] as const);
  if (action === "cancel" && open.length === 0) return { runs: [], more: false };
  const filter: RunFilter = { ...f, limit: MAX_BULK, ...(action === "cancel" ? { status: [...open] } : {}) };
  const { runs, more } = await selectRuns(env.backend, filter, MAX_BULK, env.nowUs());
  return { runs, more };
}

/**
 * Applies a bulk action through the public Backend API, run by run (cancelRun: WorkflowCancelled; rerunFrom:
 * WorkflowRerunFromStep): one run's refusal (already ended, no such step) is its outcome and does not stop the rest.
 */
export async function applyBulk(
  env: PageEnv,
  runs: RunState[],
  action: "cancel" | "rerun",
  o: { stepId?: string; reason?: string },
): Promise<BulkOutcome[]> {
  const out: BulkOutcome[] = [];
  for (const r of runs) {
    try {
      if (action === "cancel") {
        await env.backend.cancelRun(r.runId, o.reason ?? "bulk cancel from the dashboard");
        out.push({ runId: r.runId, ok: true, detail: "cancelled" });
      } else {
        const { runId } = await env.backend.rerunFrom({ parentRunId: r.runId, fromStepId: o.stepId! });
        out.push({ runId: r.runId, ok: true, detail: runId });
      }
    } catch (err) {
      if (!isCairnError(err)) throw err;
      out.push({ runId: r.runId, ok: false, detail: `${err.code}: ${err.message}` });
    }
  }
  return out;
}
