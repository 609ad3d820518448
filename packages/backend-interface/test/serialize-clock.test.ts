import { describe, expect, it } from "vitest";
import { deserializeValue, ManualClock, serializeValue, SystemClock } from "../src/index.js";

describe("serializeValue", () => {
  it("stores undefined as null and plain JSON as JSON", () => {
    expect(serializeValue(undefined)).toBe("null");
    expect(serializeValue(null)).toBe("null");
    expect(serializeValue(3)).toBe("3");
    expect(serializeValue("s")).toBe('"s"');
    expect(serializeValue([1, "a", null])).toBe('[1,"a",null]');
    expect(deserializeValue(serializeValue({ a: [1, { b: true }] }))).toEqual({ a: [1, { b: true }] });
    expect(deserializeValue(undefined)).toBeUndefined();
  });

  it("uses the documented fallbacks instead of throwing", () => {
    expect(JSON.parse(serializeValue(10n))).toEqual({ $bigint: "10" });
    expect(JSON.parse(serializeValue({ n: 2n ** 70n }))).toEqual({ n: { $bigint: "1180591620717411303424" } });
    expect(serializeValue(() => 1)).toBe('{"$unserializable":"function"}');
    expect(JSON.parse(serializeValue({ f: () => 1, x: 1 }))).toEqual({ x: 1 });
    expect(serializeValue(Number.NaN)).toBe("null");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(JSON.parse(serializeValue(cyclic))).toEqual({ a: 1, self: { $circular: "$" } });
    const both: Record<string, unknown> = { big: 1n, list: [] };
    (both.list as unknown[]).push(both);
    expect(JSON.parse(serializeValue(both))).toEqual({ big: { $bigint: "1" }, list: [{ $circular: "$" }] });
    expect(
      JSON.parse(
        serializeValue({
          toJSON() {
            throw new Error("nope");
          },
        }),
      ),
    ).toEqual({ $unserializable: "nope" });
  });

  it("repeated (non-cyclic) references are not mistaken for cycles", () => {
    const shared = { v: 1 };
    const withCycle: Record<string, unknown> = { a: shared, b: shared };
    withCycle.c = withCycle;
    expect(JSON.parse(serializeValue(withCycle))).toEqual({ a: { v: 1 }, b: { v: 1 }, c: { $circular: "$" } });
  });
});

describe("clocks", () => {
  it("SystemClock never repeats or goes backwards and is close to wall time", () => {
    const clock = new SystemClock();
    let last = 0;
    let backwards = 0;
    for (let i = 0; i < 100_000; i++) {
      const t = clock.nowUs();
      if (!(t > last)) backwards++;
      last = t;
    }
    expect(backwards).toBe(0);
    expect(Math.abs(clock.nowUs() / 1000 - Date.now())).toBeLessThan(5_000);
  });

  it("ManualClock moves only forward, by hand", () => {
    const c = new ManualClock(1_000);
    c.advanceUs(5);
    c.advanceMs(1);
    expect(c.nowUs()).toBe(2_005);
    c.setUs(3_000);
    expect(() => c.setUs(2_999)).toThrow();
    expect(c.nowUs()).toBe(3_000);
  });
});
