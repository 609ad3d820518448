import {
  CorruptRecordError,
  serializeValue,
  type Event,
  type RunState,
  type StepState,
} from "@cairn/backend-interface";

/** Receives every damaged record the driver skipped or rebuilt. */
export type CorruptionReporter = (error: CorruptRecordError) => void;

/** An events row as the read statements select it. */
export interface EventRow {
  seq: number;
  run_id: string;
  workflow_slug: string;
  type: string;
  body: string;
}

/** Serialises an event or projected state to JSON; values JSON cannot express go through serializeValue's documented fallback. */
export function encodeJson(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch {
    // BigInt or a cycle somewhere in caller-supplied metadata: use the safe encoder
  }
  return serializeValue(value);
}

/** Where an events row lives, for error messages: the file, the table and the row's seq. */
export function eventLocation(filename: string, seq: number): string {
  return `${filename} (table events, seq ${seq})`;
}

/**
 * Decodes one events row. A row whose body is not valid JSON, or does not describe the event its indexed
 * columns say, is reported (with its file, table and seq) and skipped: null, never a thrown error.
 */
export function decodeEventRow(row: EventRow, filename: string, report: CorruptionReporter): Event | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.body);
  } catch (err) {
    report(
      new CorruptRecordError(
        eventLocation(filename, row.seq),
        `invalid JSON (${(err as Error).message})`,
        { runId: row.run_id, workflowSlug: row.workflow_slug, seq: row.seq },
        err,
      ),
    );
    return null;
  }
  const ev = parsed as Partial<Event> | null;
  if (
    !ev ||
    typeof ev !== "object" ||
    ev.type !== row.type ||
    ev.runId !== row.run_id ||
    typeof ev.timestampUs !== "number"
  ) {
    report(
      new CorruptRecordError(eventLocation(filename, row.seq), "the body does not match the row's run and event type", {
        runId: row.run_id,
        workflowSlug: row.workflow_slug,
        seq: row.seq,
      }),
    );
    return null;
  }
  return ev as Event;
}

/**
 * Decodes a projected run or step state stored as JSON. When it is damaged, reports it and returns
 * `rebuild()` (the state re-projected from the events), so a bad projection row never hides the run.
 */
export function decodeState<T extends RunState | StepState>(
  text: string,
  location: string,
  context: { runId: string; stepId?: string },
  report: CorruptionReporter,
  rebuild: () => T | null,
): T | null {
  try {
    const parsed = JSON.parse(text) as T | null;
    if (parsed && typeof parsed === "object" && parsed.runId === context.runId && typeof parsed.status === "string")
      return parsed;
    report(
      new CorruptRecordError(location, "the projected state does not describe this row; rebuilt from events", context),
    );
  } catch (err) {
    report(
      new CorruptRecordError(
        location,
        `invalid JSON in the projected state (${(err as Error).message}); rebuilt from events`,
        context,
        err,
      ),
    );
  }
  return rebuild();
}
