import { isTerminalRunStatus, type Backend } from "@cairn/backend-interface";
import type * as Otel from "@opentelemetry/api";
import type { StepRunner } from "./step-runner.js";
import { contextFromMetadata, loadOtel, type OtelApi } from "@cairn/client";
import type { WorkerEvent, WorkerEvents } from "./worker-events.js";

/** The instrumentation scope of the worker's spans. */
export const TRACER_NAME = "@cairn/worker";
/** A run span with no step of it running here for this long is ended (its run goes on elsewhere, or waits). */
const IDLE_RUN_MS = 5 * 60_000;

/** A worker's tracing: wraps its step runner, ends run spans as runs end; stop() ends what is still open. */
export interface WorkerTracing {
  wrap(runner: StepRunner): StepRunner;
  stop(): void;
}

interface OpenRun {
  span: Otel.Span;
  context: Otel.Context;
  running: number;
  idleSince: number;
}

const usToTime = (us: number): Otel.HrTime => [Math.floor(us / 1e6), (us % 1e6) * 1000];

/**
 * OpenTelemetry spans of a worker, when `@opentelemetry/api` is installed (undefined otherwise, and nothing changes):
 * a `cairn.run <workflow>` span per run this worker works on, child of the submitter's span when the run's metadata
 * carries its trace context, and a `cairn.step <stepId>` span per step attempt under it, active while the step runs
 * (so the step's own spans nest under it), with workflow, run id, step id and attempt attributes and errors recorded.
 */
export async function startTracing(o: {
  backend: Backend;
  events: WorkerEvents;
  workerId: string;
}): Promise<WorkerTracing | undefined> {
  const api = await loadOtel();
  if (!api) return undefined;
  const tracer = api.trace.getTracer(TRACER_NAME);
  // With the API installed but no SDK registered every span is a no-op: skip the run lookups spans would need.
  const noop = new api.ProxyTracerProvider().getDelegate();
  const recording = (): boolean => {
    const p = api.trace.getTracerProvider();
    return !(p instanceof api.ProxyTracerProvider && p.getDelegate() === noop);
  };
  const runs = new Map<string, Promise<OpenRun>>();

  const openRun = (workflowSlug: string, runId: string): Promise<OpenRun> => {
    let open = runs.get(runId);
    if (!open) {
      open = o.backend.getRun(runId).then((run): OpenRun => {
        const parent = contextFromMetadata(api, run?.metadata);
        const span = tracer.startSpan(
          `cairn.run ${workflowSlug}`,
          {
            kind: api.SpanKind.CONSUMER,
            startTime: run?.startedAtUs ? usToTime(run.startedAtUs) : new Date(),
            attributes: {
              "cairn.workflow": workflowSlug,
              "cairn.run_id": runId,
              "cairn.workflow_attempt": run?.workflowAttemptNumber ?? 1,
              "cairn.worker_id": o.workerId,
            },
          },
          parent,
        );
        return { span, context: api.trace.setSpan(parent, span), running: 0, idleSince: Date.now() };
      });
      runs.set(runId, open);
      open.catch(() => runs.delete(runId));
    }
    return open;
  };

  const endRun = (runId: string, open: OpenRun, status: string, endUs?: number, error?: string): void => {
    runs.delete(runId);
    open.span.setAttribute("cairn.run_status", status);
    if (status === "failed")
      open.span.setStatus({ code: api.SpanStatusCode.ERROR, ...(error ? { message: error } : {}) });
    open.span.end(endUs ? usToTime(endUs) : undefined);
  };

  const checkEnded = async (runId: string): Promise<void> => {
    const open = await runs.get(runId);
    if (!open || open.running > 0) return;
    const run = await o.backend.getRun(runId);
    if (run && isTerminalRunStatus(run.status) && runs.has(runId))
      endRun(runId, open, run.status, run.endedAtUs, run.error?.message);
  };

  const onEvent = (e: WorkerEvent): void => {
    if (e.type === "step:completed" || e.type === "step:failed" || e.type === "step:skipped")
      void checkEnded(e.runId).catch(() => {});
  };
  const off = o.events.on(onEvent);
  const sweep = setInterval(() => {
    for (const [runId, p] of runs)
      void p.then(
        (open) => {
          if (open.running === 0 && Date.now() - open.idleSince > IDLE_RUN_MS) endRun(runId, open, "unfinished");
        },
        () => {},
      );
  }, 30_000);
  sweep.unref?.();

  const wrap =
    (inner: StepRunner): StepRunner =>
    async (job, declaration, io, signal) => {
      if (!recording()) return inner(job, declaration, io, signal);
      let open: OpenRun | undefined;
      try {
        open = await openRun(job.workflowSlug, job.runId);
      } catch {
        /* tracing must never stop a step */
      }
      const parent = open?.context ?? api.context.active();
      const span = tracer.startSpan(
        `cairn.step ${job.stepId}`,
        {
          attributes: {
            "cairn.workflow": job.workflowSlug,
            "cairn.run_id": job.runId,
            "cairn.step_id": job.stepId,
            "cairn.attempt": job.attempt,
          },
        },
        parent,
      );
      if (open) open.running++;
      try {
        const outcome = await api.context.with(api.trace.setSpan(parent, span), () =>
          inner(job, declaration, io, signal),
        );
        span.setAttribute("cairn.step_outcome", outcome.kind);
        if (outcome.kind === "failed") {
          span.recordException({
            name: outcome.error.name ?? "Error",
            message: outcome.error.message,
            ...(outcome.error.stack ? { stack: outcome.error.stack } : {}),
          });
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome.error.message });
        } else if (outcome.kind === "abandoned")
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: "the attempt was aborted and did not settle" });
        return outcome;
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
        if (open) {
          open.running--;
          open.idleSince = Date.now();
        }
      }
    };

  return {
    wrap,
    stop() {
      off();
      clearInterval(sweep);
      for (const [runId, p] of runs)
        void p.then(
          (open) => endRun(runId, open, "unfinished"),
          () => {},
        );
    },
  };
}
