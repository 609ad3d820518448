import {
  EventSchema,
  reduceRunState,
  reduceStepState,
  type Event,
  type RunState,
  type StepState,
} from "@cairn/backend-interface";
import type { RunAddress } from "./fs-layout.js";
import type { CorruptionReporter } from "./fs-corruption.js";

/**
 * The projected state of one run as of batch `lastSeq`: what guards are checked against and queries read.
 * Batch files are immutable and numbered without gaps, so the view is brought up to date by reading only the
 * batches after `lastSeq`.
 */
export interface RunView extends RunAddress {
  /** Highest batch sequence number folded in; -1 before the first batch. */
  lastSeq: number;
  /** The run's projected state; null while it has no workflow event. */
  run: RunState | null;
  /** Every step's projected state. */
  steps: Map<string, StepState>;
}

/** A view of a run with no batches yet. */
export function emptyView(a: RunAddress): RunView {
  return { workflowSlug: a.workflowSlug, runId: a.runId, lastSeq: -1, run: null, steps: new Map() };
}

/** Folds events into a view (the authoritative reducers, in order). */
export function applyEvents(view: RunView, events: readonly Event[]): void {
  for (const ev of events) {
    if (ev.category === "workflow") view.run = reduceRunState(view.run, ev);
    else view.steps.set(ev.stepId, reduceStepState(view.steps.get(ev.stepId) ?? null, ev));
  }
}

/** The run state `events` would produce on top of `run`, without touching the view. */
export function projectRunAfter(run: RunState | null, events: readonly Event[]): RunState | null {
  let s = run;
  for (const ev of events) if (ev.category === "workflow") s = reduceRunState(s, ev);
  return s;
}

/**
 * Parses a batch file's text: a JSON array of valid events of this run. A damaged file (truncated, invalid JSON,
 * wrong schema, events of another run) is reported with its path and yields null; the caller skips it.
 */
export function parseBatch(text: string, path: string, a: RunAddress, reporter: CorruptionReporter): Event[] | null {
  const ctx = { workflowSlug: a.workflowSlug, runId: a.runId };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    reporter.report(path, text.length === 0 ? "empty file" : "invalid or truncated JSON", ctx, err);
    return null;
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    reporter.report(path, "a batch must be a non-empty JSON array of events", ctx);
    return null;
  }
  const events: Event[] = [];
  for (let i = 0; i < raw.length; i++) {
    const parsed = EventSchema.safeParse(raw[i]);
    if (!parsed.success) {
      reporter.report(
        path,
        `event ${i} does not match the event schema (${parsed.error.issues[0]?.message ?? "invalid"})`,
        ctx,
        parsed.error,
      );
      return null;
    }
    if (parsed.data.workflowSlug !== a.workflowSlug || parsed.data.runId !== a.runId) {
      reporter.report(
        path,
        `event ${i} belongs to ${parsed.data.workflowSlug}/${parsed.data.runId}, not to this run`,
        ctx,
      );
      return null;
    }
    events.push(parsed.data);
  }
  return events;
}

/** True for completed, failed and cancelled runs. */
export function isRunTerminal(run: RunState | null): boolean {
  return run !== null && (run.status === "completed" || run.status === "failed" || run.status === "cancelled");
}

/** True when the run exists and has not ended. */
export function isRunLive(run: RunState | null): run is RunState {
  return run !== null && !isRunTerminal(run);
}
