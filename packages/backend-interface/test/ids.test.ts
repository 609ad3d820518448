import { describe, expect, it } from "vitest";
import { assertRunId, newRunId } from "../src/index.js";

describe("run ids", () => {
  it("made one after the other by a process sort in that order (so a batch's runs sit together in run-id indexes), and are valid and distinct", () => {
    const nowUs = Date.now() * 1000;
    const ids = Array.from({ length: 5_000 }, () => newRunId(nowUs));
    for (const id of ids) expect(() => assertRunId(id)).not.toThrow();
    expect(new Set(ids).size).toBe(ids.length);
    // The counter wraps every 36^4 ids: at most one step down in 5,000.
    const descents = ids.filter((id, i) => i > 0 && id < ids[i - 1]!).length;
    expect(descents).toBeLessThanOrEqual(1);
    // A later millisecond sorts after an earlier one whatever the counter.
    expect(newRunId(nowUs + 1_000) > ids[ids.length - 1]!).toBe(true);
  });
});
