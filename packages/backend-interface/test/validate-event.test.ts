import { describe, expect, it } from "vitest";
import { InvalidEventError, InvalidIdentifierError, parseEvent, parseEventFor } from "../src/index.js";

const valid = () => ({
  eventId: "e1",
  timestampUs: 1,
  workflowSlug: "wf",
  runId: "r1",
  category: "step",
  stepId: "s",
  type: "StepCompleted",
  output: "1",
  durationUs: 3,
  attemptNumber: 1,
  exportOutput: true,
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe("parseEvent", () => {
  it("returns a normalised copy without unknown keys and never touches the caller's object", () => {
    const input = deepFreeze({ ...valid(), extra: "dropped", resourceUsage: { memoryBytes: 5, bogus: 1 } });
    const before = JSON.stringify(input);
    const ev = parseEvent(input);
    expect(ev).not.toBe(input);
    expect(ev).not.toHaveProperty("extra");
    expect((ev as { resourceUsage?: object }).resourceUsage).toEqual({ memoryBytes: 5 });
    expect(JSON.stringify(input)).toBe(before);
  });

  it.each([
    ["a missing field", { output: undefined }],
    ["a wrong type", { durationUs: "3" }],
    ["a negative duration", { durationUs: -1 }],
    ["a fractional timestamp", { timestampUs: 1.5 }],
    ["attempt 0", { attemptNumber: 0 }],
    ["an unknown type", { type: "StepExploded" }],
    ["an unknown category", { category: "other" }],
  ])("rejects %s with InvalidEventError", (_label, patch) => {
    const input = { ...valid(), ...patch } as Record<string, unknown>;
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete input[k];
    const snapshot = structuredClone(input);
    expect(() => parseEvent(input)).toThrow(InvalidEventError);
    expect(input).toEqual(snapshot);
  });

  it("reports issues with their paths and a stable code", () => {
    try {
      parseEvent({ ...valid(), durationUs: "x" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidEventError);
      expect((err as InvalidEventError).code).toBe("INVALID_EVENT");
      expect((err as InvalidEventError).issues.map((i) => i.path)).toContain("durationUs");
      expect((err as Error).message).toContain("Nothing was written");
    }
  });

  it("rejects malformed ids with InvalidIdentifierError, and non-objects", () => {
    expect(() => parseEvent({ ...valid(), runId: "../x" })).toThrow(InvalidIdentifierError);
    expect(() => parseEvent({ ...valid(), stepId: "a/../b" })).toThrow(InvalidIdentifierError);
    expect(() => parseEvent(null)).toThrow(InvalidEventError);
    expect(() => parseEvent("StepCompleted")).toThrow(InvalidEventError);
  });

  it("parseEventFor refuses an event of another run", () => {
    expect(parseEventFor("wf", "r1", valid()).runId).toBe("r1");
    expect(() => parseEventFor("wf", "r2", valid())).toThrow(InvalidEventError);
    expect(() => parseEventFor("other", "r1", valid())).toThrow(InvalidEventError);
  });
});
