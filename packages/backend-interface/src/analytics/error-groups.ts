import type { Event, EventOf } from "../events.js";
import { InvalidArgumentError } from "../errors.js";
import { fingerprintFor, type GroupingStrategy } from "../fingerprint.js";
import { compareStrings, groupBy, ofType, selectEvents } from "./window.js";

/** Page size when `limit` is not given. */
export const DEFAULT_ERRORS_LIMIT = 50;
/** The strategy errorsList groups by when none is given. */
export const DEFAULT_GROUPING_STRATEGY: GroupingStrategy = "normalized";

/** Options of errorsList. `timeRange` is µs, inclusive; default the last 24 h. */
export interface ErrorsListOptions {
  timeRange?: { start: number; end: number };
  workflowSlug?: string;
  /** Default `normalized`. */
  groupingStrategy?: GroupingStrategy;
  /** Default 50. */
  limit?: number;
  offset?: number;
}

/** One group of StepFailed events sharing a fingerprint. */
export interface ErrorGroup {
  fingerprint: string;
  /** Of the sample: the earliest occurrence (timestampUs asc, then eventId asc). */
  errorMessage: string;
  /** `error.name ?? "Error"` of the sample. */
  errorName: string;
  /** `error.stack ?? ""` of the sample. */
  sampleStack: string;
  count: number;
  /** Distinct runIds. */
  affectedRuns: number;
  firstSeen: number;
  lastSeen: number;
}

/** A page of error groups: sorted count desc, lastSeen desc, fingerprint asc; `total` is the number of groups. */
export interface ErrorsList {
  errors: ErrorGroup[];
  total: number;
}

/** Options of errorDetail. */
export interface ErrorDetailOptions {
  timeRange?: { start: number; end: number };
  /** Default 50. */
  limit?: number;
  offset?: number;
}

/** One StepFailed of a group. */
export interface ErrorOccurrence {
  workflowSlug: string;
  runId: string;
  stepId: string;
  attemptNumber: number;
  timestampUs: number;
  /** This occurrence's own message (normalized groups hold varying messages). */
  errorMessage: string;
}

/** Every occurrence of one fingerprint: the group's figures plus a page of occurrences (timestampUs desc, then eventId asc). */
export interface ErrorDetail extends Omit<ErrorGroup, "count"> {
  totalCount: number;
  occurrences: ErrorOccurrence[];
  /** Same as totalCount: the number of occurrences across all pages. */
  total: number;
}

function page(options: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const limit = options.limit ?? DEFAULT_ERRORS_LIMIT;
  const offset = options.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0)
    throw new InvalidArgumentError(`limit must be a non-negative integer, got ${limit}.`);
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidArgumentError(`offset must be a non-negative integer, got ${offset}.`);
  return { limit, offset };
}

const window = (t: { start: number; end: number } | undefined) => (t ? { startUs: t.start, endUs: t.end } : {});

const byTimeThenId = (a: EventOf<"StepFailed">, b: EventOf<"StepFailed">): number =>
  a.timestampUs - b.timestampUs || compareStrings(a.eventId, b.eventId);

function summarise(fingerprint: string, list: Array<EventOf<"StepFailed">>): ErrorGroup {
  const sorted = [...list].sort(byTimeThenId);
  const sample = sorted[0];
  return {
    fingerprint,
    errorMessage: sample?.error.message ?? "",
    errorName: sample ? (sample.error.name ?? "Error") : "",
    sampleStack: sample?.error.stack ?? "",
    count: list.length,
    affectedRuns: new Set(list.map((e) => e.runId)).size,
    firstSeen: sample?.timestampUs ?? 0,
    lastSeen: sorted[sorted.length - 1]?.timestampUs ?? 0,
  };
}

/** Groups the window's StepFailed events by `fingerprintFor(errorFingerprints, strategy)`. Pure. */
export function computeErrorsList(events: readonly Event[], options: ErrorsListOptions, nowUs: number): ErrorsList {
  const { limit, offset } = page(options);
  const strategy = options.groupingStrategy ?? DEFAULT_GROUPING_STRATEGY;
  const selected = selectEvents(
    events,
    { ...window(options.timeRange), ...(options.workflowSlug ? { workflowSlug: options.workflowSlug } : {}) },
    nowUs,
  );
  const groups = [...groupBy(ofType(selected, "StepFailed"), (e) => fingerprintFor(e.errorFingerprints, strategy))].map(
    ([fp, list]) => summarise(fp, list),
  );
  groups.sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen || compareStrings(a.fingerprint, b.fingerprint));
  return { errors: groups.slice(offset, offset + limit), total: groups.length };
}

/** Every occurrence in the window of one fingerprint under one strategy; zeros and empty strings when there is none. Pure. */
export function computeErrorDetail(
  events: readonly Event[],
  fingerprint: string,
  strategy: GroupingStrategy,
  options: ErrorDetailOptions,
  nowUs: number,
): ErrorDetail {
  const { limit, offset } = page(options);
  const list = ofType(selectEvents(events, window(options.timeRange), nowUs), "StepFailed").filter(
    (e) => fingerprintFor(e.errorFingerprints, strategy) === fingerprint,
  );
  const { count, ...group } = summarise(fingerprint, list);
  const occurrences = [...list]
    .sort((a, b) => b.timestampUs - a.timestampUs || compareStrings(a.eventId, b.eventId))
    .slice(offset, offset + limit)
    .map((e) => ({
      workflowSlug: e.workflowSlug,
      runId: e.runId,
      stepId: e.stepId,
      attemptNumber: e.attemptNumber,
      timestampUs: e.timestampUs,
      errorMessage: e.error.message,
    }));
  return { ...group, totalCount: count, occurrences, total: count };
}
