import type { Event, StepError } from "@cairn/backend-interface";
import { FOLDED_FRAMES, errorText } from "./error-text.js";
import { time } from "./format.js";
import type { Styles } from "./styles.js";

/** One line of `cairn logs`: a log line a step emitted, or the error an attempt ended with. */
export interface LogLine {
  kind: "log" | "error";
  eventId: string;
  /** When the step emitted it (log lines), or when the attempt's end was recorded (errors). */
  timestampUs: number;
  stepId: string;
  attemptNumber: number;
  stream?: "stdout" | "stderr";
  message: string;
  error?: StepError;
  failureReason?: string;
  /** False when a retry followed the error. */
  terminal?: boolean;
}

/** The log lines and attempt errors among `events` (any order), filtered to one step or attempt, in time order. */
export function logLines(events: readonly Event[], filter: { stepId?: string; attempt?: number } = {}): LogLine[] {
  const out: LogLine[] = [];
  for (const e of events) {
    if (e.category !== "step" || (filter.stepId !== undefined && e.stepId !== filter.stepId)) continue;
    if ("attemptNumber" in e && filter.attempt !== undefined && e.attemptNumber !== filter.attempt) continue;
    const base = { eventId: e.eventId, stepId: e.stepId };
    if (e.type === "LogEntry")
      out.push({
        ...base,
        kind: "log",
        timestampUs: e.emittedAtUs ?? e.timestampUs,
        attemptNumber: e.attemptNumber,
        stream: e.stream,
        message: e.message,
      });
    else if (e.type === "StepFailed")
      out.push({
        ...base,
        kind: "error",
        timestampUs: e.timestampUs,
        attemptNumber: e.attemptNumber,
        message: e.error.message,
        error: e.error,
        failureReason: e.failureReason,
        terminal: e.terminal,
      });
    else if (e.type === "StepReclaimed") {
      const error = {
        name: "WorkerLost",
        message: `worker ${e.originalWorkerId} stopped heartbeating; attempt ${e.attemptNumber} was reclaimed by ${e.reclaimedBy}`,
      };
      out.push({
        ...base,
        kind: "error",
        timestampUs: e.timestampUs,
        attemptNumber: e.attemptNumber,
        message: error.message,
        error,
        failureReason: "worker-crash",
        terminal: false,
      });
    }
  }
  // Stable: lines emitted in the same microsecond keep their stored order.
  return out.sort((a, b) => a.timestampUs - b.timestampUs);
}

/** A log line for people: time with milliseconds, step#attempt, then the text; an error with its folded stack. */
export function renderLogLine(l: LogLine, s: Styles, verbose = false): string {
  const head = `${s.dim(time(l.timestampUs, true))} ${s.cyan(`${l.stepId}#${l.attemptNumber}`)}`;
  if (l.kind === "log") return `${head} ${l.stream === "stderr" ? s.yellow(`! ${l.message}`) : l.message}\n`;
  const [first, ...rest] = errorText(l.error!, verbose ? Infinity : FOLDED_FRAMES).split("\n");
  const what =
    l.terminal === false ? `attempt failed (${l.failureReason}), retried:` : `attempt failed (${l.failureReason}):`;
  return `${head} ${s.red(`✗ ${what} ${first}`)}\n${rest.map((r) => `${s.red(r)}\n`).join("")}`;
}

/** A log line for `--json`: its fields, and the time as ISO text too. */
export function logLineJson(l: LogLine): Record<string, unknown> {
  return { ...l, time: new Date(Math.floor(l.timestampUs / 1000)).toISOString() };
}
