import type { Event } from "./events.js";
import { FlowRejectedError, gateLimit, type FlowControl, type GateQuery, type GateView } from "./flow-control.js";
import type { MakeRunEvent } from "./run-advance.js";
import type { RunState } from "./run-state.js";

/** What flow control decided for a pending run of a gated workflow: start it, or the events that record why not. */
export type Admission = { start: true } | { start: false; events: Event[] };

const WAIT: Admission = { start: false, events: [] };

/** True when the newest submit of a gate wins and older waiting runs give way (debounce, exclusive latest, singleton replace). */
export function newestWins(flow: FlowControl): boolean {
  return (
    flow.debounce !== undefined ||
    (flow.mode === "exclusive" && flow.onBusy === "latest") ||
    (flow.mode === "singleton" && flow.onBusy === "replace")
  );
}

/** The gate query for a pending run of a gated workflow (null for any other run: only pending runs are admitted). */
export function gateQueryFor(run: RunState | null, flow: FlowControl | undefined, nowUs: number): GateQuery | null {
  if (!flow || !run || run.status !== "pending" || run.flowKey === undefined) return null;
  const limit = gateLimit(flow);
  const cap = Math.max(1, Number.isFinite(limit) ? limit : 1, flow.capacity ?? 1, flow.rateLimit?.limit ?? 1) + 1;
  return {
    workflowSlug: run.workflowSlug,
    flowKey: run.flowKey,
    runId: run.runId,
    priority: run.priority,
    createdAtUs: run.createdAtUs,
    nowUs,
    cap,
    ...(flow.rateLimit ? { startedSinceUs: nowUs - flow.rateLimit.periodMs * 1000 } : {}),
  };
}

/**
 * Pure: whether a pending run of a gated workflow starts now, decided from the other runs of its gate as the store
 * counted them inside the write (`gate`). Without a count (a write that could not take the gate's lock) it never
 * starts: the gate's next write or the maintenance sweep decides. `submitting` is true in the write that creates the
 * run, where exclusive `reject` and a full `capacity` refuse the submit (FlowRejectedError aborts the write).
 *
 * In order: a newer waiting run supersedes this one (newest-wins rules); a submit into a busy singleton is dropped
 * (or signalled); a run not yet available waits; a rate limit over its budget delays (or drops) it; a gate with no
 * free slot (running + available runs ahead of it ≥ limit) queues it, recorded once; otherwise it starts.
 */
export function admitRun(
  run: RunState,
  flow: FlowControl,
  gate: GateView | undefined,
  nowUs: number,
  submitting: boolean,
  make: MakeRunEvent,
): Admission {
  if (!gate) return WAIT;
  const busy = gate.running.length > 0 || gate.waiting > 0;
  const active = gate.running[0];
  const related = active !== undefined ? { relatedRunId: active } : {};
  const end = (
    decision: "dropped" | "superseded" | "signalled",
    reason: string,
    extra: { relatedRunId?: string } = {},
  ): Admission => ({
    start: false,
    events: [
      make("FlowControlled", undefined, { decision, reason, ...extra }),
      make("WorkflowCancelled", undefined, {
        workflowAttemptNumber: run.workflowAttemptNumber,
        reason: `${decision}: ${reason}`,
        durationUs: 0,
        completedSteps: 0,
      }),
    ],
  });
  if (submitting) {
    if (flow.mode === "exclusive" && flow.onBusy === "reject" && busy) {
      throw new FlowRejectedError(
        run.workflowSlug,
        run.flowKey ?? "",
        active !== undefined
          ? `run ${active} is active (mode exclusive, onBusy reject)`
          : "a run is waiting to start (mode exclusive, onBusy reject)",
      );
    }
    if (flow.mode === "singleton" && busy && (flow.onBusy === "drop" || flow.onBusy === "signal")) {
      // signal: the input goes to the running run as a signal named "input" (sent by the Backend after this write).
      if (flow.onBusy === "signal" && active !== undefined)
        return end(
          "signalled",
          `its input was delivered to run ${active} as the signal "input" (mode singleton, onBusy signal)`,
          related,
        );
      return end("dropped", "a run of the same workflow and key is active (mode singleton, onBusy drop)", related);
    }
  }
  if (newestWins(flow) && gate.newer)
    return end("superseded", "a newer run of the same workflow and key was submitted");
  if (run.availableAtUs > nowUs) return WAIT;
  const rate = flow.rateLimit;
  if (rate && gate.startedSince >= rate.limit) {
    if (rate.onExceed === "drop")
      return end("dropped", `the rate limit of ${rate.limit} runs per ${rate.periodMs} ms was reached`);
    const untilUs = (gate.earliestStartUs ?? nowUs) + rate.periodMs * 1000 + 1;
    if (run.flow?.decision === "delayed" && run.flow.untilUs === untilUs) return WAIT;
    return {
      start: false,
      events: [
        make("FlowControlled", undefined, {
          decision: "delayed",
          reason: `rate limit of ${rate.limit} runs per ${rate.periodMs} ms`,
          untilUs,
        }),
      ],
    };
  }
  const limit = gateLimit(flow);
  if (gate.running.length + gate.ahead >= limit) {
    if (submitting && flow.mode === "capacity" && gate.waiting >= (flow.capacity ?? Infinity)) {
      throw new FlowRejectedError(
        run.workflowSlug,
        run.flowKey ?? "",
        `${gate.waiting} runs already wait (capacity ${flow.capacity})`,
      );
    }
    if (run.flow?.decision === "queued") return WAIT;
    const why =
      gate.running.length >= limit
        ? `${limit === 1 ? "a run" : `${limit} runs`} of the same workflow and key ${limit === 1 ? "is" : "are"} running`
        : "earlier runs wait for the free slot";
    return {
      start: false,
      events: [
        make("FlowControlled", undefined, { decision: "queued", reason: `${why} (limit ${limit})`, ...related }),
      ],
    };
  }
  return { start: true };
}
