/** The live view of `submit --wait` and `cairn run`'s note for progress with item counts. */
import { describe, expect, it } from "vitest";
import type { RunState, StepState } from "@cairn/backend-interface";
import { ProgressView, progressText } from "../src/cli/progress-view.js";
import { stylesFor } from "../src/cli/styles.js";

const plainStyles = stylesFor(false);

describe("progress with item counts", () => {
  it("reads as percent, counts, outcomes and message; without a total only the counts", () => {
    expect(
      progressText({
        fraction: 0.3,
        items: { total: 500, processed: 150, succeeded: 148, failed: 2 },
        message: "page 3",
      }),
    ).toBe("30% 150/500 items (148 ok, 2 failed) page 3");
    expect(progressText({ fraction: 0, items: { processed: 42 } })).toBe("42 items");
    expect(progressText({ fraction: 0.5, message: "half" })).toBe("50% half");
    expect(progressText({ fraction: 1 / 3 })).toBe("33.3%");
    expect(progressText({ fraction: 1 / 3 }, true)).toBe("33%");
  });

  it("submit --wait prints the running step's item counts and a new line when they change", () => {
    const out: string[] = [];
    const view = new ProgressView((t) => out.push(t), false, plainStyles);
    const run = { runId: "r1", workflowSlug: "wf", status: "running" } as RunState;
    const step = { stepId: "fetch", status: "running", attemptNumber: 1, startTimeUs: 0 } as StepState;
    const at = (processed: number) =>
      new Map([
        [
          "fetch",
          [
            {
              stepId: "fetch",
              attemptNumber: 1,
              outcome: "running" as const,
              progress: { fraction: processed / 500, items: { total: 500, processed, failed: 1 }, atUs: 0 },
            },
          ],
        ],
      ]);
    view.update({ run, steps: [step], attempts: at(150) }, 1_000_000);
    view.update({ run, steps: [step], attempts: at(150) }, 2_000_000);
    view.update({ run, steps: [step], attempts: at(151) }, 3_000_000);
    const text = out.join("");
    expect(text).toContain("30% 150/500 items (1 failed)");
    expect(text).toContain("30% 151/500 items (1 failed)");
    expect(text.match(/items/g)).toHaveLength(2);
  });
});
