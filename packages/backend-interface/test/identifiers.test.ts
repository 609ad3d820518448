import { describe, expect, it } from "vitest";
import {
  assertIds,
  assertRunId,
  assertStepId,
  assertVersionId,
  assertWorkflowSlug,
  isValidIdentifier,
  InvalidIdentifierError,
  MAX_ID_LENGTH,
  MAX_STEP_ID_LENGTH,
} from "../src/index.js";

describe("identifiers", () => {
  it("accepts letters, digits, - _ . and nested step ids", () => {
    for (const ok of ["a", "my-flow_2.v1", "A".repeat(MAX_ID_LENGTH)]) {
      expect(() => assertWorkflowSlug(ok)).not.toThrow();
      expect(() => assertRunId(ok)).not.toThrow();
    }
    expect(() => assertStepId("etl/extract/fetch-users")).not.toThrow();
    expect(() => assertStepId(".hidden")).not.toThrow();
  });

  it.each([
    ["../x"],
    ["a/../../b"],
    [".."],
    ["."],
    ["a/./b"],
    [""],
    ["/etc/passwd"],
    ["a/"],
    ["a//b"],
    ["a\u0000b"],
    ["a\\b"],
    ["a b"],
    ["ä"],
    ["x".repeat(MAX_ID_LENGTH + 1)],
  ])("rejects step id %j", (bad) => {
    expect(() => assertStepId(bad)).toThrow(InvalidIdentifierError);
  });

  it.each([["../x"], ["a/b"], [".."], ["."], [""], ["/abs"], ["C:\\x"], ["a\u0000"], ["x".repeat(MAX_ID_LENGTH + 1)]])(
    "rejects slug and run id %j",
    (bad) => {
      expect(() => assertWorkflowSlug(bad)).toThrow(InvalidIdentifierError);
      expect(() => assertRunId(bad)).toThrow(InvalidIdentifierError);
    },
  );

  it("bounds the whole step id, rejects non-strings, and carries a stable code", () => {
    const long = Array.from({ length: 10 }, () => "s".repeat(60)).join("/");
    expect(long.length).toBeGreaterThan(MAX_STEP_ID_LENGTH);
    expect(() => assertStepId(long)).toThrow(/longer than/);
    for (const v of [undefined, null, 5, {}]) expect(() => assertRunId(v)).toThrow(InvalidIdentifierError);
    try {
      assertIds({ workflowSlug: "ok", runId: "../../etc" });
    } catch (err) {
      expect((err as InvalidIdentifierError).code).toBe("INVALID_IDENTIFIER");
      expect((err as Error).message).toContain("runId");
    }
    expect(isValidIdentifier("stepId", "a/b")).toBe(true);
    expect(isValidIdentifier("runId", "a/b")).toBe(false);
  });
});

describe("version ids", () => {
  it("accepts the original content-addressed format `sha256:<hex>` and run-id-like ids", () => {
    for (const ok of [`sha256:${"0a".repeat(32)}`, "v1", "2024.01.31-rc_1", "a:b:c"]) {
      expect(() => assertVersionId(ok)).not.toThrow();
      expect(isValidIdentifier("versionId", ok)).toBe(true);
    }
  });

  it.each([
    [""],
    ["."],
    [".."],
    ["../x"],
    ["sha256/abc"],
    ["a\\b"],
    ["a b"],
    ["a\u0000"],
    ["%3A"],
    ["x".repeat(MAX_ID_LENGTH + 1)],
    [5],
  ])("rejects version id %j", (bad) => {
    expect(() => assertVersionId(bad)).toThrow(InvalidIdentifierError);
    expect(() => assertVersionId(bad)).toThrow(/^Invalid versionId /);
  });

  it("keeps ':' out of the other identifiers", () => {
    expect(isValidIdentifier("runId", "sha256:abc")).toBe(false);
    expect(isValidIdentifier("workflowSlug", "a:b")).toBe(false);
    expect(isValidIdentifier("stepId", "a:b")).toBe(false);
  });
});

describe("identifier errors name the field", () => {
  function messageOf(fn: () => void): string {
    try {
      fn();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("did not throw");
  }

  it.each([
    ["workflowSlug", () => assertIds({ workflowSlug: "a/b" })],
    ["runId", () => assertIds({ runId: "a/b" })],
    ["stepId", () => assertIds({ stepId: "a//b" })],
    ["versionId", () => assertIds({ versionId: "a/b" })],
  ] as const)("%s", (field, fn) => {
    expect(messageOf(fn)).toMatch(new RegExp(`^Invalid ${field} "`));
  });

  it("names the caller's field and the rule it breaks, with both in the context", () => {
    expect(messageOf(() => assertRunId("a/b", "parentRunId"))).toMatch(/^Invalid parentRunId \(a runId\) "a\/b"/);
    try {
      assertStepId("..", "fromStepId");
    } catch (err) {
      expect((err as InvalidIdentifierError).context).toMatchObject({
        kind: "stepId",
        field: "fromStepId",
        value: "..",
      });
    }
  });
});
