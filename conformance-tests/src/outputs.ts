import { isAbsolute, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { serializeValue } from "@cairn/backend-interface";
import type { ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { expectCode } from "./support/expect-error.js";
import { WF, claim, complete, runWithSteps } from "./support/scenario.js";

function cyclic(): unknown {
  const o: Record<string, unknown> = { name: "loop", list: [1] };
  o.self = o;
  (o.list as unknown[]).push(o);
  return o;
}

/** [label, value, what JSON.parse of the stored output must equal]; every output must also equal serializeValue(value). */
const CASES: Array<[string, unknown, unknown]> = [
  ["object", { a: 1, b: "two", c: [true, null] }, { a: 1, b: "two", c: [true, null] }],
  ["empty object", {}, {}],
  ["array", [1, "x", { y: 2 }], [1, "x", { y: 2 }]],
  ["empty array", [], []],
  ["string", 'hello "quoted"\n\ttab \\ slash', 'hello "quoted"\n\ttab \\ slash'],
  ["empty string", "", ""],
  ["integer", 42, 42],
  ["zero", 0, 0],
  ["negative float", -1.5e-7, -1.5e-7],
  ["huge number", 1.7976931348623157e308, 1.7976931348623157e308],
  ["true", true, true],
  ["false", false, false],
  ["null", null, null],
  ["undefined (stored as null)", undefined, null],
  ["NaN (as JSON.stringify)", NaN, null],
  [
    "nested",
    { l1: { l2: { l3: { l4: [[[{ deep: "yes" }]]] } } } },
    { l1: { l2: { l3: { l4: [[[{ deep: "yes" }]]] } } } },
  ],
  [
    "unicode",
    { emoji: "🚀👩‍💻", cjk: "漢字", rtl: "שלום", combining: "é", nul: "a\u0000b", lone: "\u2028" },
    { emoji: "🚀👩‍💻", cjk: "漢字", rtl: "שלום", combining: "é", nul: "a\u0000b", lone: "\u2028" },
  ],
  ["undefined members dropped", { keep: 1, drop: undefined, arr: [undefined] }, { keep: 1, arr: [null] }],
  ["BigInt", { n: 12345678901234567890n }, { n: { $bigint: "12345678901234567890" } }],
  ["bare BigInt", 7n, { $bigint: "7" }],
  [
    "functions and symbols: dropped as members, marked in arrays",
    { f: () => 1, s: Symbol("s"), arr: [() => 2, Symbol("t")], keep: "k" },
    { arr: [{ $unserializable: "function" }, { $unserializable: "symbol" }], keep: "k" },
  ],
  [
    "functions beside a cycle encode alike",
    (() => {
      const o: Record<string, unknown> = { arr: [() => 2] };
      o.me = o;
      return o;
    })(),
    { arr: [{ $unserializable: "function" }], me: { $circular: "$" } },
  ],
  ["bare function", () => 1, { $unserializable: "function" }],
  ["cycle", cyclic(), { name: "loop", list: [1, { $circular: "$" }], self: { $circular: "$" } }],
  ["Date (toJSON)", new Date(Date.UTC(2026, 0, 2)), "2026-01-02T00:00:00.000Z"],
];

/** Step outputs of every JSON shape, the documented fallback, and output paths. */
export function outputTests(h: ConformanceHarness): void {
  describe("outputs", () => {
    const t = useInstance(h, { manualClock: true, workflows: [WF] });

    it("stores every JSON shape and the documented fallback for what JSON cannot express, without throwing", async () => {
      const { backend } = t;
      const stepIds = CASES.map((_, i) => `out-${i}`);
      const { runId, steps } = await runWithSteps(backend, stepIds);
      for (const [i, [label, value]] of CASES.entries()) {
        const ref = steps[i]!;
        const attemptNumber = await claim(backend, ref);
        await expect(
          backend.saveStepComplete(WF, runId, ref.stepId, value, {
            timestamp: 0,
            duration: 1,
            attemptNumber,
            output: value,
          }),
          label,
        ).resolves.toBeUndefined();
      }
      const states = new Map((await backend.loadRun(WF, runId)).map((s) => [s.stepId, s]));
      const events = await backend.loadEvents(WF, runId, { category: "step" });
      for (const [i, [label, , expected]] of CASES.entries()) {
        const state = states.get(`out-${i}`);
        expect(state?.status, label).toBe("completed");
        expect(typeof state?.output, label).toBe("string");
        expect(state!.output, label).toBe(serializeValue(CASES[i]![1]));
        expect(JSON.parse(state!.output!), label).toEqual(expected);
        const ev = events.find((e) => e.type === "StepCompleted" && e.stepId === `out-${i}`);
        expect(ev && ev.type === "StepCompleted" ? ev.output : undefined, label).toBe(state!.output);
        expect((await backend.getStepState(WF, runId, `out-${i}`))?.output, label).toBe(state!.output);
      }
    });

    it("stores a large output (1 MiB) intact", async () => {
      const { backend } = t;
      const {
        runId,
        steps: [ref],
      } = await runWithSteps(backend, ["big"]);
      const big = {
        rows: Array.from({ length: 4096 }, (_, i) => ({
          i,
          text: "x".repeat(240) + String.fromCodePoint(0x1f600 + (i % 50)),
        })),
      };
      await complete(backend, ref!, await claim(backend, ref!), big);
      expect(JSON.parse((await backend.getStepState(WF, runId, "big"))!.output!)).toEqual(big);
    });

    it("stores workflow outputs of any shape", async () => {
      const { backend } = t;
      for (const [label, value, expected] of [
        ["undefined", undefined, null],
        ["array", [1, { a: "ü" }], [1, { a: "ü" }]],
        ["bigint", 5n, { $bigint: "5" }],
      ] as const) {
        const { runId } = await runWithSteps(backend, []);
        await backend.saveWorkflowComplete(WF, runId, value, {
          workflowAttemptNumber: 1,
          timestamp: 0,
          duration: 1,
          totalSteps: 0,
        });
        const run = await backend.getRun(runId);
        expect(run?.status, label).toBe("completed");
        expect(JSON.parse(run!.output!), label).toEqual(expected);
      }
    });

    it("getStepOutputPath returns a normalised absolute local path, distinct per step and attempt", async () => {
      const { backend } = t;
      const p1 = backend.getStepOutputPath(WF, "run-1", "etl/extract", 1);
      const p2 = backend.getStepOutputPath(WF, "run-1", "etl/extract", 2);
      const p3 = backend.getStepOutputPath(WF, "run-1", "etl/load", 1);
      const p4 = backend.getStepOutputPath(WF, "run-2", "etl/extract", 1);
      for (const p of [p1, p2, p3, p4]) {
        expect(typeof p).toBe("string");
        expect(isAbsolute(p), p).toBe(true);
        expect(normalize(p)).toBe(p);
        expect(p).not.toMatch(/^[a-z]+:\/\//i);
      }
      expect(new Set([p1, p2, p3, p4]).size).toBe(4);
      if (t.instance.storageDir) expect(p1.startsWith(t.instance.storageDir)).toBe(true);
      await expectCode(() => backend.getStepOutputPath(WF, "run-1", "s", 0), "INVALID_ARGUMENT");
    });
  });
}
