import { afterEach, describe, expect, it } from "vitest";
import { dueTicks, jsonValueProblem, latestTick, nextTick, scheduleProblems } from "../src/index.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString());

describe("schedule ticks (pure)", () => {
  const tz = process.env.TZ;
  afterEach(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it("reads expressions in UTC unless the schedule names a timezone, whatever the host's zone", () => {
    process.env.TZ = "Asia/Tokyo";
    expect(nextTick({ cron: ["0 6 * * *"] }, at("2026-01-01T00:00:00Z"))).toBe(at("2026-01-01T06:00:00Z"));
    expect(nextTick({ cron: ["0 6 * * *"], timezone: "America/New_York" }, at("2026-01-01T00:00:00Z"))).toBe(
      at("2026-01-01T11:00:00Z"),
    );
    // Summer time: 06:00 in New York is 10:00Z in July.
    expect(nextTick({ cron: ["0 6 * * *"], timezone: "America/New_York" }, at("2026-07-01T00:00:00Z"))).toBe(
      at("2026-07-01T10:00:00Z"),
    );
  });

  it("owes nothing at first sight without backfill, the latest tick after an outage, and the window with backfill", () => {
    const spec = { cron: ["*/10 * * * *"] };
    expect(dueTicks(spec, null, at("2026-01-01T01:05:00Z"))).toEqual([]);
    expect(latestTick(spec, at("2026-01-01T01:05:00Z"))).toBe(at("2026-01-01T01:00:00Z"));
    expect(iso(dueTicks(spec, at("2026-01-01T00:00:00Z"), at("2026-01-01T05:05:00Z")))).toEqual([
      "2026-01-01T05:00:00.000Z",
    ]);
    expect(dueTicks(spec, at("2026-01-01T05:00:00Z"), at("2026-01-01T05:05:00Z"))).toEqual([]);
    const filled = { ...spec, backfillMs: 30 * 60_000 };
    expect(iso(dueTicks(filled, at("2026-01-01T00:00:00Z"), at("2026-01-01T05:05:00Z")))).toEqual([
      "2026-01-01T04:40:00.000Z",
      "2026-01-01T04:50:00.000Z",
      "2026-01-01T05:00:00.000Z",
    ]);
    expect(iso(dueTicks(filled, at("2026-01-01T04:50:00Z"), at("2026-01-01T05:05:00Z")))).toEqual([
      "2026-01-01T05:00:00.000Z",
    ]);
    // A tick exactly at the window's edge is outside it (the window is (now - backfill, now]).
    expect(iso(dueTicks(filled, null, at("2026-01-01T05:10:00Z")))).toEqual([
      "2026-01-01T04:50:00.000Z",
      "2026-01-01T05:00:00.000Z",
      "2026-01-01T05:10:00.000Z",
    ]);
  });

  it("bounds one pass to MAX_TICKS_PER_PASS ticks, the newest", () => {
    const ticks = dueTicks({ cron: ["* * * * * *"], backfillMs: 86_400_000 }, null, at("2026-01-01T00:00:00Z"));
    expect(ticks).toHaveLength(1000);
    expect(ticks.at(-1)).toBe(at("2026-01-01T00:00:00Z"));
  });

  it("names every problem of a schedule by its field", () => {
    expect(scheduleProblems({ cron: ["nope", "*/5 * * * *"], timezone: "Nowhere/City", backfillMs: -1 })).toEqual([
      expect.stringMatching(/^schedule: cron expression "nope" does not parse/),
      expect.stringMatching(/^timezone: unknown timezone "Nowhere\/City"/),
      "backfill: must be a non-negative duration, got -1",
    ]);
    expect(scheduleProblems({ cron: [] })).toEqual(["schedule: needs at least one cron expression"]);
  });
});

describe("JSON payloads", () => {
  it("accepts JSON values and names where a value is not one", () => {
    for (const ok of [undefined, null, 1, "s", true, [1, "a", null], { a: { b: [1] }, skipped: undefined }])
      expect(jsonValueProblem(ok, "payload")).toBeUndefined();
    expect(jsonValueProblem({ items: [1, 2n] }, "payload")).toBe(
      "payload.items[1] is a BigInt, which JSON cannot hold",
    );
    expect(jsonValueProblem({ f: () => 1 }, "payload")).toBe("payload.f is a function, which JSON cannot hold");
    expect(jsonValueProblem([Number.NaN], "payload")).toBe("payload[0] is NaN, which JSON cannot hold");
    expect(jsonValueProblem([undefined], "payload")).toBe("payload[0] is undefined");
    expect(jsonValueProblem({ d: new Date(0) }, "payload")).toBe("payload.d is a Date object, not a plain JSON object");
    const loop: unknown[] = [];
    loop.push(loop);
    expect(jsonValueProblem(loop, "payload")).toBe("payload[0] refers back to itself (a cycle)");
    const shared = { x: 1 };
    expect(jsonValueProblem({ a: shared, b: shared }, "payload")).toBeUndefined();
  });
});
