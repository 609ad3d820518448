import type { StepRef } from "@cairn/backend-interface";

/** Everything a worker reports. The loop never throws; problems arrive here as `error` events. */
export type WorkerEvent =
  | { type: "worker:started"; workerId: string; concurrency: number; workflows: string[]; backend: string }
  | { type: "worker:stopping"; workerId: string; running: number }
  | { type: "worker:stopped"; workerId: string }
  | { type: "run:input-invalid"; workflowSlug: string; runId: string; issues: Array<{ path: string; message: string }> }
  | { type: "run:timed-out"; runId: string }
  /** A retention pass deleted this many ended runs. */
  | { type: "runs:deleted"; runs: number }
  /** A schedule tick started a run (`scheduledAt`: the tick, ISO 8601). */
  | { type: "run:scheduled"; workflowSlug: string; runId: string; scheduledAt: string }
  /** An alert pass posted an alert (ok: the webhook accepted it). */
  | { type: "alert:sent"; on: string; key: string; ok: boolean }
  | ({ type: "step:claimed"; attempt: number; slot: number } & StepRef)
  | ({ type: "step:completed"; attempt: number; durationMs: number } & StepRef)
  | ({ type: "step:skipped"; attempt: number; reason: string } & StepRef)
  | ({ type: "step:retry"; attempt: number; delayMs: number; message: string } & StepRef)
  | ({ type: "step:failed"; attempt: number; reason: string; message: string } & StepRef)
  | ({ type: "step:aborted"; attempt: number; reason: AbortReason } & StepRef)
  | ({ type: "step:released"; attempt: number } & StepRef)
  /** The attempt gave back its slot to wait (a sleep, a signal, a poll); the next attempt runs on wake. */
  | ({
      type: "step:waiting";
      attempt: number;
      kind: "sleep" | "event" | "poll";
      name: string;
      untilUs?: number;
    } & StepRef)
  | ({ type: "step:stale"; attempt: number; message: string } & StepRef)
  | ({ type: "step:progress"; attempt: number; fraction: number; message?: string } & StepRef)
  | { type: "steps:reclaimed"; steps: StepRef[] }
  /** A lifecycle hook ran (`ok: false`: it threw; the run is unchanged). */
  | {
      type: "run:hook";
      hook: "onStart" | "onComplete" | "onFail" | "onCancel";
      workflowSlug: string;
      runId: string;
      ok: boolean;
      message?: string;
    }
  | { type: "error"; where: string; error: unknown };

/** Why a running attempt was aborted. */
export type AbortReason = "cancelled" | "timeout" | "lost-lease" | "shutdown" | "run-ended";

/** Receives worker events. */
export type WorkerEventListener = (event: WorkerEvent) => void;

/** Fans worker events out to listeners; a throwing listener never reaches the worker. */
export class WorkerEvents {
  private readonly listeners = new Set<WorkerEventListener>();
  /** Adds a listener; returns a function that removes it. */
  on(listener: WorkerEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: WorkerEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        /* a listener's bug must not stop the worker */
      }
    }
  }
}

/** A line of text for a worker event, for the CLI's log output. */
export function formatWorkerEvent(e: WorkerEvent): string {
  const at =
    "stepId" in e
      ? `${e.workflowSlug}/${e.runId} ${e.stepId}`
      : "workflowSlug" in e
        ? `${e.workflowSlug}/${e.runId}`
        : "runId" in e
          ? e.runId
          : "";
  switch (e.type) {
    case "worker:started":
      return `worker ${e.workerId} started (concurrency ${e.concurrency}, backend ${e.backend}, workflows: ${e.workflows.join(", ") || "none"})`;
    case "worker:stopping":
      return `worker ${e.workerId} stopping (${e.running} step(s) running)`;
    case "worker:stopped":
      return `worker ${e.workerId} stopped`;
    case "run:input-invalid":
      return `run input invalid ${at}: ${e.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`;
    case "run:timed-out":
      return `run failed ${at}: past its timeout`;
    case "run:hook":
      return `hook ${e.hook} ${at} ${e.ok ? "ran" : `failed: ${e.message ?? ""}`}`;
    case "alert:sent":
      return `alert ${e.on} (${e.key}) ${e.ok ? "posted" : "NOT accepted by its webhook"}`;
    case "run:scheduled":
      return `run scheduled ${at} for the tick of ${e.scheduledAt}`;
    case "runs:deleted":
      return `retention: deleted ${e.runs} ended run(s) past their workflow's retention`;
    case "step:claimed":
      return `step claimed ${at} attempt ${e.attempt} slot ${e.slot}`;
    case "step:completed":
      return `step completed ${at} attempt ${e.attempt} in ${e.durationMs} ms`;
    case "step:skipped":
      return `step skipped ${at}: ${e.reason}`;
    case "step:retry":
      return `step failed ${at} attempt ${e.attempt}, retry in ${e.delayMs} ms: ${e.message}`;
    case "step:failed":
      return `step failed ${at} attempt ${e.attempt} (${e.reason}): ${e.message}`;
    case "step:aborted":
      return `step aborted ${at} attempt ${e.attempt}: ${e.reason}`;
    case "step:waiting":
      return `step waiting ${at}: ${e.kind} ${e.name}${e.untilUs === undefined ? "" : ` until ${new Date(e.untilUs / 1000).toISOString()}`}`;
    case "step:released":
      return `step released ${at} attempt ${e.attempt} (shutdown); another worker will pick it up`;
    case "step:stale":
      return `step ${at} attempt ${e.attempt} lost its claim: ${e.message}`;
    case "step:progress":
      return `step progress ${at} ${Math.round(e.fraction * 100)}%${e.message ? ` ${e.message}` : ""}`;
    case "steps:reclaimed":
      return `reclaimed ${e.steps.length} stale step(s): ${e.steps.map((s) => `${s.runId}/${s.stepId}`).join(", ")}`;
    case "error":
      return `error in ${e.where}: ${e.error instanceof Error ? e.error.message : String(e.error)}`;
  }
}
