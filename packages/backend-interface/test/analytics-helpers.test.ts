import { describe, expect, it } from "vitest";
import {
  averageOf,
  nearestRank,
  percentiles,
  perUnit,
  rateOf,
  resolveWindow,
  selectEvents,
  DEFAULT_WINDOW_US,
} from "../src/analytics/index.js";
import { parseEvent, type Event } from "../src/index.js";

describe("percentiles", () => {
  it("is all zeros for no values", () => {
    expect(percentiles([])).toEqual({ count: 0, averageUs: 0, medianUs: 0, p95Us: 0, p99Us: 0, minUs: 0, maxUs: 0 });
  });
  it("uses nearest rank ceil(p*n/100) on sorted values", () => {
    expect(percentiles([7])).toEqual({ count: 1, averageUs: 7, medianUs: 7, p95Us: 7, p99Us: 7, minUs: 7, maxUs: 7 });
    expect(percentiles([30, 10])).toMatchObject({ medianUs: 10, p95Us: 30, averageUs: 20 }); // median of two = the lower
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentiles(hundred)).toEqual({
      count: 100,
      averageUs: 51,
      medianUs: 50,
      p95Us: 95,
      p99Us: 99,
      minUs: 1,
      maxUs: 100,
    }); // avg 50.5 rounds up
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 95)).toBe(20); // ceil(19.95) = 20
  });
  it("rounds averages, rates and per-unit figures as documented", () => {
    expect(averageOf(31, 15)).toBe(2);
    expect(averageOf(5, 2)).toBe(3);
    expect(averageOf(0, 0)).toBe(0);
    expect(rateOf(1, 3)).toBe(33.33);
    expect(rateOf(2, 3)).toBe(66.67);
    expect(rateOf(1, 7)).toBe(14.29);
    expect(rateOf(0, 0)).toBe(0);
    expect(rateOf(5, 5)).toBe(100);
    expect(perUnit(7, 3_600_000_000, 60_000_000)).toBe(0.12);
    expect(perUnit(3, 0, 60_000_000)).toBe(0);
  });
});

describe("window and selection", () => {
  const now = 10 * DEFAULT_WINDOW_US;
  it("defaults to the 24 h ending now, and to 24 h before an explicit end", () => {
    expect(resolveWindow(undefined, now)).toEqual({ startUs: now - DEFAULT_WINDOW_US, endUs: now });
    expect(resolveWindow({ endUs: 5 * DEFAULT_WINDOW_US }, now)).toEqual({
      startUs: 4 * DEFAULT_WINDOW_US,
      endUs: 5 * DEFAULT_WINDOW_US,
    });
    expect(resolveWindow({ startUs: 3 }, now)).toEqual({ startUs: 3, endUs: now });
    expect(resolveWindow({ endUs: 10 }, now)).toEqual({ startUs: 0, endUs: 10 });
  });

  const ev = (timestampUs: number, extra: Record<string, unknown> = {}): Event =>
    parseEvent({
      eventId: `e${timestampUs}`,
      timestampUs,
      workflowSlug: "wf",
      runId: "r1",
      category: "step",
      stepId: "s",
      type: "StepCompleted",
      output: "1",
      durationUs: 1,
      attemptNumber: 1,
      exportOutput: false,
      ...extra,
    });

  it("includes both bounds, filters slug, runs and step, and drops copied results", () => {
    const events = [
      ev(99),
      ev(100),
      ev(150),
      ev(200),
      ev(201),
      ev(150, { copiedFromRunId: "r0", eventId: "copy" }),
      ev(150, { runId: "r2", eventId: "r2" }),
      ev(150, { stepId: "t", eventId: "t" }),
    ];
    const ids = (o: Parameters<typeof selectEvents>[1]) => selectEvents(events, o, now).map((e) => e.eventId);
    expect(ids({ startUs: 100, endUs: 200 })).toEqual(["e100", "e150", "e200", "r2", "t"]);
    expect(ids({ startUs: 100, endUs: 200, runIds: ["r2"] })).toEqual(["r2"]);
    expect(ids({ startUs: 100, endUs: 200, runIds: [] })).toEqual([]);
    expect(ids({ startUs: 100, endUs: 200, stepId: "t" })).toEqual(["t"]);
    expect(ids({ startUs: 100, endUs: 200, workflowSlug: "other" })).toEqual([]);
  });

  it("does not filter workflow events by stepId", () => {
    const wf = parseEvent({
      eventId: "w",
      timestampUs: 150,
      workflowSlug: "wf",
      runId: "r1",
      category: "workflow",
      type: "WorkflowCompleted",
      workflowAttemptNumber: 1,
      output: "{}",
      durationUs: 5,
      totalSteps: 1,
    });
    expect(selectEvents([wf], { startUs: 0, endUs: 200, stepId: "x" }, now)).toHaveLength(1);
  });
});
