import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { usageSince } from "../src/step-runner.js";

describe("usageSince", () => {
  it("gives the CPU time since the start and the process's RSS, at most 50 ms old", async () => {
    const start = process.cpuUsage();
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i % 7;
    const first = usageSince(start);
    expect(x).toBeGreaterThan(0);
    expect(first.cpuTimeUs).toBe(first.cpuUserUs! + first.cpuSystemUs!);
    expect(first.cpuTimeUs).toBeGreaterThan(0);
    expect(first.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    const held = Buffer.alloc(64 * 1024 * 1024, 1); // touched pages: RSS grows by ~64 MiB
    await sleep(60);
    expect(usageSince(start).memoryBytes).toBeGreaterThan(first.memoryBytes! + 32 * 1024 * 1024);
    expect(held[0]).toBe(1);
  });
});
