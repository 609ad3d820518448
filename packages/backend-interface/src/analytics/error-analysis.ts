import type { Event } from "../events.js";
import { compareStrings, groupBy, ofType, selectEvents, type AnalyticsOptions } from "./window.js";

/** How many of the top messages ErrorAnalysis lists. */
export const TOP_MESSAGES = 10;

/** Failure patterns over the StepFailed events of the selection (see `selectEvents`). */
export interface ErrorAnalysis {
  /** StepFailed events. */
  totalFailures: number;
  /** Of which `terminal: true`. */
  terminalFailures: number;
  /** Of which `terminal: false` (a retry followed). */
  retriedFailures: number;
  /** Distinct runIds with a StepFailed. */
  affectedRuns: number;
  /** Per failureReason; count desc, then failureReason asc. */
  byReason: Array<{ failureReason: string; count: number }>;
  /** Per `error.name ?? "Error"`; count desc, then errorName asc. */
  byErrorName: Array<{ errorName: string; count: number }>;
  /** Per (workflowSlug, stepId); count desc, then workflowSlug asc, stepId asc. */
  byStep: Array<{ workflowSlug: string; stepId: string; count: number; terminalCount: number; affectedRuns: number }>;
  /** Per (errorName, raw message), the first TOP_MESSAGES by count desc, then errorName asc, errorMessage asc. */
  topMessages: Array<{ errorName: string; errorMessage: string; count: number }>;
}

const byCountThen =
  <T extends { count: number }>(...keys: Array<(x: T) => string>) =>
  (a: T, b: T): number => {
    if (a.count !== b.count) return b.count - a.count;
    for (const k of keys) {
      const c = compareStrings(k(a), k(b));
      if (c !== 0) return c;
    }
    return 0;
  };

/** Computes ErrorAnalysis. Pure. */
export function computeErrorAnalysis(
  events: readonly Event[],
  options: AnalyticsOptions,
  nowUs: number,
): ErrorAnalysis {
  const failed = ofType(selectEvents(events, options, nowUs), "StepFailed");
  const terminal = failed.filter((e) => e.terminal).length;
  const byReason = [...groupBy(failed, (e) => e.failureReason)].map(([failureReason, list]) => ({
    failureReason,
    count: list.length,
  }));
  const byErrorName = [...groupBy(failed, (e) => e.error.name ?? "Error")].map(([errorName, list]) => ({
    errorName,
    count: list.length,
  }));
  const byStep = [...groupBy(failed, (e) => `${e.workflowSlug}\u0000${e.stepId}`).values()].map((list) => ({
    workflowSlug: list[0]?.workflowSlug ?? "",
    stepId: list[0]?.stepId ?? "",
    count: list.length,
    terminalCount: list.filter((e) => e.terminal).length,
    affectedRuns: new Set(list.map((e) => e.runId)).size,
  }));
  const topMessages = [...groupBy(failed, (e) => `${e.error.name ?? "Error"}\u0000${e.error.message}`).values()].map(
    (list) => ({
      errorName: list[0]?.error.name ?? "Error",
      errorMessage: list[0]?.error.message ?? "",
      count: list.length,
    }),
  );
  return {
    totalFailures: failed.length,
    terminalFailures: terminal,
    retriedFailures: failed.length - terminal,
    affectedRuns: new Set(failed.map((e) => e.runId)).size,
    byReason: byReason.sort(byCountThen((x) => x.failureReason)),
    byErrorName: byErrorName.sort(byCountThen((x) => x.errorName)),
    byStep: byStep.sort(
      byCountThen(
        (x) => x.workflowSlug,
        (x) => x.stepId,
      ),
    ),
    topMessages: topMessages
      .sort(
        byCountThen(
          (x) => x.errorName,
          (x) => x.errorMessage,
        ),
      )
      .slice(0, TOP_MESSAGES),
  };
}
