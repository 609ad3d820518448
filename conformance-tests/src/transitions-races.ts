import { describe, expect, it } from "vitest";
import type { Backend, MaintenanceResult, StepRef } from "@cairn/backend-interface";
import { resolveCapabilities, type ConformanceHarness } from "./support/harness.js";
import { useInstance } from "./support/lifecycle.js";
import { withChildren, type ProcessPool } from "./support/processes.js";
import { WF, claim, complete, countEvents } from "./support/scenario.js";
import {
  CHAIN,
  FORK,
  expectRunMatchesEvents,
  registerVersion,
  stepStatuses,
  terminalEvents,
  workflowTrail,
} from "./support/dags.js";

type Outcome = { ok: true } | { ok: false; code: string; message: string };
type SubmitOutcome = { ok: true; runId: string; isNew: boolean } | { ok: false; code: string };

/** When the children of a round act together: far enough ahead for every command to arrive first. */
const barrier = (): number => Date.now() + 300;

/** `count` store-driven runs with their root completed, returned with the attempts of `claimed` steps claimed here. */
async function runsWithClaimed(
  backend: Backend,
  count: number,
  claimed: string[],
): Promise<Array<{ runId: string; attempts: Record<string, number> }>> {
  const submitted = await backend.submitRuns(Array.from({ length: count }, () => ({ workflowSlug: WF })));
  const out: Array<{ runId: string; attempts: Record<string, number> }> = [];
  for (const s of submitted) {
    if (!s.ok) throw s.error;
    const root: StepRef = { workflowSlug: WF, runId: s.runId, stepId: "a" };
    await complete(backend, root, await claim(backend, root, "parent"), "A");
    const attempts: Record<string, number> = {};
    for (const id of claimed) attempts[id] = await claim(backend, { ...root, stepId: id }, "parent");
    out.push({ runId: s.runId, attempts });
  }
  return out;
}

/** Store-side transitions racing across real processes: never two terminal run events, never a run created twice. */
export function transitionRaceTests(h: ConformanceHarness, procs: ProcessPool): void {
  const caps = resolveCapabilities(h);

  describe.skipIf(!caps.multiProcess)("transitions: real processes", () => {
    const t = useInstance(h);

    it("two processes completing the two last parallel steps of 20 runs at once: one WorkflowCompleted each, with both exports", async () => {
      const { backend } = t;
      await registerVersion(backend, FORK);
      const runs = await runsWithClaimed(backend, 20, ["b", "c"]);
      const outcomes = await withChildren(procs, t.instance.opener, 2, (group) => {
        const startAtMs = barrier();
        return group.round<Outcome[]>((i) => {
          const stepId = i === 0 ? "b" : "c";
          return {
            task: "complete",
            startAtMs,
            targets: runs.map((r) => ({
              workflowSlug: WF,
              runId: r.runId,
              stepId,
              attemptNumber: r.attempts[stepId],
              output: `${stepId}-${r.runId}`,
              exportOutput: true,
            })),
          };
        });
      });
      expect(outcomes.flat().filter((o) => !o.ok)).toEqual([]);
      for (const { runId } of runs) {
        const events = await backend.loadEvents(WF, runId, { category: "workflow" });
        expect(
          events.filter((e) => e.type === "WorkflowCompleted"),
          runId,
        ).toHaveLength(1);
        expect(terminalEvents(events), runId).toHaveLength(1);
        const run = await expectRunMatchesEvents(backend, runId);
        expect(run).toMatchObject({ status: "completed", totalSteps: 3 });
        expect(JSON.parse(run.output!), runId).toEqual({ b: `b-${runId}`, c: `c-${runId}` });
      }
    }, 120_000);

    it("completing the last step while another process cancels the run: exactly one terminal event, the status its projection", async () => {
      const { backend } = t;
      await registerVersion(backend, CHAIN.slice(0, 2));
      const runs = await runsWithClaimed(backend, 20, ["b"]);
      const [completions, cancels] = await withChildren(procs, t.instance.opener, 2, (group) => {
        const startAtMs = barrier();
        return group.round<Outcome[]>((i) =>
          i === 0
            ? {
                task: "complete",
                startAtMs,
                targets: runs.map((r) => ({
                  workflowSlug: WF,
                  runId: r.runId,
                  stepId: "b",
                  attemptNumber: r.attempts.b,
                  output: "B",
                  exportOutput: true,
                })),
              }
            : { task: "cancel", startAtMs, runIds: runs.map((r) => r.runId), reason: "race" },
        );
      });
      // A completion that lost to the cancel may be refused; nothing else may go wrong.
      for (const o of completions!) if (!o.ok) expect(["RUN_TERMINAL", "STALE_ATTEMPT"], o.message).toContain(o.code);
      expect(cancels!.filter((o) => !o.ok)).toEqual([]);
      for (const { runId } of runs) {
        const events = await backend.loadEvents(WF, runId, { category: "workflow" });
        expect(
          terminalEvents(events).map((e) => e.type),
          runId,
        ).toHaveLength(1);
        const run = await expectRunMatchesEvents(backend, runId);
        expect(["completed", "cancelled"], runId).toContain(run.status);
        if (run.status === "completed") expect(JSON.parse(run.output!)).toEqual({ b: "B" });
      }
    }, 120_000);

    it("8 processes running maintenance at once: each due run started once, each overdue run failed once", async () => {
      const { backend } = t;
      await registerVersion(backend, CHAIN);
      const dueAtUs = backend.clock.nowUs() + 1_500_000;
      const ids = (list: Array<{ ok: boolean; runId?: string }>) => list.map((o) => o.runId ?? "submit failed");
      const due = ids(
        await backend.submitRuns(Array.from({ length: 30 }, () => ({ workflowSlug: WF, availableAtUs: dueAtUs }))),
      );
      const overdue = ids(
        await backend.submitRuns(Array.from({ length: 30 }, () => ({ workflowSlug: WF, timeoutUs: 1_000_000 }))),
      );
      // On a slow machine a run may already be due when its submission is written (and is started by it): only the
      // runs still pending now are maintenance's to start.
      const pending = (
        await Promise.all(due.map(async (id) => ((await backend.getRun(id))?.status === "pending" ? [id] : [])))
      ).flat();
      expect(pending.length, "due runs still pending before the round").toBeGreaterThan(0);
      const lastDeadlineUs =
        Math.max(...(await Promise.all(overdue.map(async (id) => (await backend.getRun(id))?.startedAtUs ?? 0)))) +
        1_000_000;
      const reports = await withChildren(procs, t.instance.opener, 8, (group) => {
        const startAtMs = Math.max(barrier(), Math.ceil(Math.max(dueAtUs, lastDeadlineUs) / 1000) + 100);
        return group.round<MaintenanceResult>((i) => ({
          task: "maintain",
          startAtMs,
          workerId: `maint-${i}`,
          staleMs: 600_000,
          limit: 100,
        }));
      });
      for (const runId of due) {
        expect(await workflowTrail(backend, runId), runId).toEqual(["RunSubmitted", "WorkflowStarted"]);
        expect(await stepStatuses(backend, runId)).toEqual({ a: "scheduled" });
        expect(await countEvents(backend, { workflowSlug: WF, runId, stepId: "a" }, "StepScheduled")).toBe(1);
      }
      for (const runId of overdue) {
        expect(await workflowTrail(backend, runId), runId).toEqual([
          "RunSubmitted",
          "WorkflowStarted",
          "WorkflowFailed",
        ]);
        expect(await backend.getRun(runId)).toMatchObject({ status: "failed", failureReason: "timeout" });
      }
      // A driver may decide a follow-up more than once (the filesystem re-runs a round it lost): only a landed write counts.
      expect(reports.flatMap((r) => r.started).sort(), "every due run reported started by exactly one process").toEqual(
        pending.sort(),
      );
      expect(
        reports.flatMap((r) => r.timedOut).sort(),
        "every overdue run reported failed by exactly one process",
      ).toEqual([...overdue].sort());
    }, 120_000);

    it("8 processes batch-submitting the same 50 idempotency keys, shuffled: one run and one isNew per key, one runId per key", async () => {
      const { backend } = t;
      await registerVersion(backend, CHAIN);
      const keys = Array.from({ length: 50 }, (_, i) => `key-${String(i).padStart(2, "0")}`);
      const item = (k: string) => ({ workflowSlug: WF, idempotencyKey: k, input: { key: k } });
      const results = await withChildren(procs, t.instance.opener, 8, (group) => {
        const startAtMs = barrier();
        return group.round<SubmitOutcome[]>((i) => ({
          task: "submit-batch",
          startAtMs,
          items: shuffled(keys, i + 1).map(item),
        }));
      });
      const byKey = new Map<string, Array<{ runId: string; isNew: boolean }>>();
      results.forEach((outcomes, i) => {
        const order = shuffled(keys, i + 1);
        outcomes.forEach((o, k) => {
          expect(o, `child ${i}, key ${order[k]}`).toMatchObject({ ok: true });
          if (o.ok) byKey.set(order[k]!, [...(byKey.get(order[k]!) ?? []), o]);
        });
      });
      const runs = await backend.listRuns({ workflowSlug: WF });
      expect(runs).toHaveLength(50);
      expect(runs.map((r) => r.idempotencyKey).sort()).toEqual(keys);
      for (const k of keys) {
        const seen = byKey.get(k) ?? [];
        expect(seen, k).toHaveLength(8);
        expect(
          seen.filter((o) => o.isNew),
          `isNew for ${k}`,
        ).toHaveLength(1);
        expect(new Set(seen.map((o) => o.runId)).size, `runIds for ${k}`).toBe(1);
        const run = runs.find((r) => r.idempotencyKey === k)!;
        expect(run.runId).toBe(seen[0]!.runId);
        expect(JSON.parse(run.input!)).toEqual({ key: k });
        expect(run.status).toBe("running");
        const trail = (await backend.loadEvents(WF, run.runId)).map((e) => e.type);
        expect(trail, k).toEqual(["RunSubmitted", "WorkflowStarted", "StepScheduled"]);
      }
    }, 120_000);
  });
}

/** `list` in an order fixed by `seed` (a small LCG), different for each seed. */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed * 7919;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
