import type { Event, EventOf, EventType } from "../events.js";

/** The default window length: 24 hours in µs. */
export const DEFAULT_WINDOW_US = 86_400_000_000;

/** Options every windowed analytics query takes. Bounds are µs and inclusive. */
export interface AnalyticsOptions {
  /** Window start; default `endUs - 24 h` (not below 0). */
  startUs?: number;
  /** Window end; default now. */
  endUs?: number;
  /** Only events of this workflow. */
  workflowSlug?: string;
  /** Only step events of this step (exact match); workflow events are not filtered by it. */
  stepId?: string;
  /** Only events of these runs; an empty array selects nothing. */
  runIds?: string[];
}

/** A window resolved to concrete, inclusive bounds. */
export interface ResolvedWindow {
  startUs: number;
  endUs: number;
}

/** Resolves the window: `endUs = o.endUs ?? nowUs`, `startUs = o.startUs ?? max(0, endUs - 24 h)`. */
export function resolveWindow(
  o: Pick<AnalyticsOptions, "startUs" | "endUs"> | undefined,
  nowUs: number,
): ResolvedWindow {
  const endUs = o?.endUs ?? nowUs;
  return { startUs: o?.startUs ?? Math.max(0, endUs - DEFAULT_WINDOW_US), endUs };
}

/** True for results copied from a parent run by rerunFrom; every analytics query ignores them. */
export function isCopied(ev: Event): boolean {
  return (ev.type === "StepCompleted" || ev.type === "StepSkipped") && ev.copiedFromRunId !== undefined;
}

/**
 * THE selection every windowed query starts from, and the only one: the events with
 * `startUs <= timestampUs <= endUs`, of `workflowSlug` when given, of `runIds` when given, of `stepId` when given
 * (step events only; workflow events pass), without copied results. Nothing outside it is looked at: a StepStarted
 * inside the window whose StepScheduled lies before it has no match, and so on. Order of the input does not matter
 * to any query.
 */
export function selectEvents(events: readonly Event[], options: AnalyticsOptions | undefined, nowUs: number): Event[] {
  const { startUs, endUs } = resolveWindow(options, nowUs);
  const runs = options?.runIds ? new Set(options.runIds) : null;
  const slug = options?.workflowSlug;
  const stepId = options?.stepId;
  return events.filter(
    (ev) =>
      ev.timestampUs >= startUs &&
      ev.timestampUs <= endUs &&
      (slug === undefined || ev.workflowSlug === slug) &&
      (runs === null || runs.has(ev.runId)) &&
      (stepId === undefined || ev.category !== "step" || ev.stepId === stepId) &&
      !isCopied(ev),
  );
}

/** The events of one type. */
export function ofType<T extends EventType>(events: readonly Event[], type: T): Array<EventOf<T>> {
  return events.filter((ev): ev is EventOf<T> => ev.type === type);
}

/** Key of one step of one run (run ids are unique across workflows). */
export const stepKey = (ev: { runId: string; stepId: string }): string => `${ev.runId}\u0000${ev.stepId}`;
/** Key of one attempt of one step of one run. */
export const attemptKey = (ev: { runId: string; stepId: string; attemptNumber: number }): string =>
  `${ev.runId}\u0000${ev.stepId}\u0000${ev.attemptNumber}`;

/** String order used by every sort: UTF-16 code units (JS `<`); for SQL, Postgres `COLLATE "C"`, SQLite BINARY (equal for ASCII ids). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Groups items by a key, keeping first-seen order of keys. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
