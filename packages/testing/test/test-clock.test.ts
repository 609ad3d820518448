import { describe, expect, it } from "vitest";
import { every } from "@cairn/worker";
import { durationMs, TestClock } from "../src/index.js";

describe("TestClock", () => {
  it("stands still until moved, then fires the timers that fall due in time order, each at its due time", () => {
    const clock = new TestClock();
    const t0 = clock.nowMs();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(["b", clock.nowMs() - t0]), 200);
    clock.setTimeout(() => fired.push(["a", clock.nowMs() - t0]), 100);
    const cancel = clock.setTimeout(() => fired.push(["never", 0]), 150);
    clock.setTimeout(() => fired.push(["later", 0]), 10_000);
    cancel();
    expect(fired).toEqual([]);
    clock.advance("250ms");
    expect(fired).toEqual([
      ["a", 100],
      ["b", 200],
    ]);
    expect(clock.nowMs() - t0).toBe(250);
    expect(clock.nextTimerUs()).toBe((t0 + 10_000) * 1000);
  });

  it("an interval built on it fires once per period the clock passes, each at its own time, until stopped", () => {
    const clock = new TestClock();
    let beats = 0;
    const stop = every(clock, 1000, () => beats++);
    clock.advance("3s");
    expect(beats).toBe(3);
    clock.advance("1h");
    expect(beats).toBe(3603);
    stop();
    clock.advance("1h");
    expect(beats).toBe(3603);
  });

  it("advanceToNextTimer moves exactly to the next timer; a timer set during firing at a due time fires too", () => {
    const clock = new TestClock();
    const t0 = clock.nowMs();
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.nowMs() - t0);
      clock.setTimeout(() => seen.push(clock.nowMs() - t0), 0);
    }, 40);
    expect(clock.advanceToNextTimer()).toBe(true);
    expect(seen).toEqual([40, 40]);
    expect(clock.advanceToNextTimer()).toBe(false);
  });

  it("durations: numbers of ms and text with units; anything else says what it accepts", () => {
    expect(durationMs(250)).toBe(250);
    expect(durationMs("250ms")).toBe(250);
    expect(durationMs("10m")).toBe(600_000);
    expect(durationMs("1h30m")).toBe(5_400_000);
    expect(durationMs("1.5s")).toBe(1500);
    expect(() => durationMs("ten minutes")).toThrow(/such as "250ms", "30s", "10m"/);
    expect(() => durationMs(-1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
