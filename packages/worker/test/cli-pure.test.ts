/** The CLI's pure parts: attempts folded from events, error and stack folding, table fitting, colour, flags, throttling. */
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import type { Event } from "@cairn/backend-interface";
import { foldAttempts } from "../src/cli/attempts.js";
import { instantUsFlag } from "../src/cli/command.js";
import { errorText } from "../src/cli/error-text.js";
import { logLines } from "../src/cli/log-lines.js";
import { usageErrorFrom } from "../src/cli/parse-errors.js";
import { colorEnabled } from "../src/cli/styles.js";
import { fit, renderTable } from "../src/cli/table.js";
import { throttled } from "../src/throttle.js";

const base = { workflowSlug: "wf", runId: "r1", category: "step" as const, stepId: "s" };
let n = 0;
const ev = (type: string, timestampUs: number, body: object): Event =>
  ({ ...base, eventId: `e${n++}`, type, timestampUs, ...body }) as unknown as Event;
const fp = {
  exactHash: "a",
  normalizedHash: "b",
  portableHash: "c",
  stackExactHash: "d",
  stackNormalizedHash: "e",
  stackPortableHash: "f",
};

describe("foldAttempts", () => {
  it("tells each attempt: worker, start, duration, outcome, error; a reclaim and a release are named; progress is the latest", () => {
    const events = [
      ev("StepStarted", 100, { workerId: "w1", dependencies: [], attemptNumber: 1 }),
      ev("LogEntry", 150, {
        stream: "stdout",
        message: "[progress] 50%",
        attemptNumber: 1,
        emittedAtUs: 120,
        progress: { fraction: 0.5 },
      }),
      ev("StepFailed", 200, {
        error: { name: "E", message: "boom" },
        errorFingerprints: fp,
        durationUs: 100,
        attemptNumber: 1,
        terminal: false,
        failureReason: "execution-error",
        nextRetryAtUs: 300,
      }),
      ev("StepStarted", 300, { workerId: "w2", dependencies: [], attemptNumber: 2 }),
      ev("StepReclaimed", 900, {
        originalWorkerId: "w2",
        reclaimedBy: "w3",
        lastHeartbeatUs: 300,
        staleThresholdUs: 500,
        staleDurationUs: 600,
        attemptNumber: 2,
      }),
      ev("StepStarted", 950, { workerId: "w3", dependencies: [], attemptNumber: 3 }),
      ev("StepFailed", 990, {
        error: { name: "WorkerShutdownRelease", message: "released" },
        errorFingerprints: fp,
        durationUs: 40,
        attemptNumber: 3,
        terminal: false,
        failureReason: "execution-error",
      }),
      ev("StepStarted", 1000, { workerId: "w1", dependencies: [], attemptNumber: 4 }),
      ev("StepCompleted", 1010, { output: "1", durationUs: 10, attemptNumber: 4, exportOutput: false }),
    ];
    const attempts = foldAttempts(events).get("s")!;
    expect(attempts.map((a) => [a.attemptNumber, a.workerId, a.outcome, a.durationUs])).toEqual([
      [1, "w1", "retried", 100],
      [2, "w2", "reclaimed", 600],
      [3, "w3", "released", 40],
      [4, "w1", "completed", 10],
    ]);
    expect(attempts[0]).toMatchObject({
      startedAtUs: 100,
      nextRetryAtUs: 300,
      error: { message: "boom" },
      progress: { fraction: 0.5, atUs: 120 },
    });
    expect(attempts[1]!.error!.message).toContain("worker w2 stopped heartbeating");
  });
});

describe("logLines", () => {
  it("orders log lines by emission time and errors by when they were recorded, filtered by step and attempt", () => {
    const events = [
      ev("LogEntry", 500, { stream: "stdout", message: "a", attemptNumber: 1, emittedAtUs: 100 }),
      ev("LogEntry", 500, { stream: "stderr", message: "b", attemptNumber: 1, emittedAtUs: 300 }),
      ev("StepFailed", 400, {
        error: { message: "x" },
        errorFingerprints: fp,
        durationUs: 1,
        attemptNumber: 1,
        terminal: true,
        failureReason: "execution-error",
      }),
      ev("LogEntry", 600, { stream: "stdout", message: "old line without emission time", attemptNumber: 2 }),
    ];
    expect(logLines(events).map((l) => l.message)).toEqual(["a", "b", "x", "old line without emission time"]);
    expect(logLines(events, { attempt: 2 }).map((l) => l.timestampUs)).toEqual([600]);
    expect(logLines(events, { stepId: "other" })).toEqual([]);
  });
});

describe("errorText", () => {
  const stack = `Error: boom\n    at a (file.ts:1:1)\n${Array.from({ length: 9 }, (_, i) => `    at f${i} (file.ts:${i}:1)`).join("\n")}`;
  it("keeps the whole message and folds the stack to a few frames, saying how many are left out", () => {
    const text = errorText({ name: "TypeError", message: "first line\nsecond line", stack }, 3);
    expect(text.split("\n").slice(0, 2)).toEqual(["TypeError: first line", "second line"]);
    expect(text).toContain("at a (file.ts:1:1)");
    expect(text).toContain("… 7 more frames (--verbose shows all)");
    expect(errorText({ message: "m", stack }, Infinity)).not.toContain("more frames");
    const withNode = `Error: x\n    at mine (step.ts:1:1)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n    at next (step.ts:2:2)`;
    expect(errorText({ message: "x", stack: withNode }, 3)).toBe(
      "Error: x\n    at mine (step.ts:1:1)\n    at next (step.ts:2:2)\n    … 1 more frame (--verbose shows all)",
    );
  });
});

describe("renderTable", () => {
  const rows = [["run_0123456789abcdefghijklm", "etl", "failed", "x".repeat(80)]];
  it("leaves a table alone outside a terminal, and narrows it to the terminal's width, cutting the shrinkable column", () => {
    expect(renderTable(["RUN", "WORKFLOW", "STATUS", "ERROR"], rows)).toContain("x".repeat(80));
    const narrow = renderTable(["RUN", "WORKFLOW", "STATUS", "ERROR"], rows, { columns: 60, shrink: [3] });
    for (const line of narrow.split("\n")) expect([...line].length).toBeLessThanOrEqual(60);
    expect(narrow).toContain("run_0123456789abcdefghijklm");
    expect(narrow).toContain("…");
  });
  it("leaves out optional columns when shrinking is not enough", () => {
    const narrow = renderTable(["RUN", "WORKFLOW", "STATUS", "ERROR"], rows, {
      columns: 40,
      shrink: [3],
      optional: [3, 1],
    });
    expect(narrow.split("\n")[0]).toMatch(/^RUN\s+STATUS$/);
  });
  it("fit takes width from the widest shrinkable column first", () => {
    expect(fit([10, 30, 20], 50, [1, 2])).toEqual([10, 20, 20]);
  });
});

describe("colour, flags, parse errors, throttling", () => {
  it("colour only on a terminal, never with NO_COLOR, TERM=dumb or --no-color; FORCE_COLOR forces it", () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(true, { TERM: "dumb" })).toBe(false);
    expect(colorEnabled(true, {}, false)).toBe(false);
    expect(colorEnabled(false, { FORCE_COLOR: "1" })).toBe(true);
  });
  it("--at takes ISO 8601 times only", () => {
    expect(instantUsFlag("at", "2026-03-01T09:00:00Z")).toBe(Date.parse("2026-03-01T09:00:00Z") * 1000);
    expect(() => instantUsFlag("at", "tomorrow")).toThrow(/ISO 8601/);
    expect(() => instantUsFlag("at", "2026-13-45")).toThrow(/ISO 8601/);
  });
  it("commander's errors are said in our words, with the suggestion", () => {
    const unknown = new CommanderError(
      1,
      "commander.unknownOption",
      "error: unknown option '--stauts'\n(Did you mean --status?)",
    );
    expect(usageErrorFrom(unknown, "cairn runs").message).toBe(
      "unknown option --stauts. Did you mean --status? See `cairn runs --help`.",
    );
    const cmd = new CommanderError(1, "commander.unknownCommand", "error: unknown command 'rns'\n(Did you mean runs?)");
    expect(usageErrorFrom(cmd, "cairn").message).toBe(
      '"rns" is not a command. Did you mean `cairn runs`? See `cairn --help`.',
    );
  });
  it("a throttled call runs at once, then the requests of an interval fold into one call at its end", async () => {
    let calls = 0;
    const t = throttled(200, () => calls++);
    t.request();
    t.request();
    t.request();
    expect(calls).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(2);
    t.request();
    t.cancel();
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(2);
  });
});
