import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  deserializeValue,
  isTerminalRunStatus,
  projectRunState,
  type Backend,
  type RunState,
} from "@cairn/backend-interface";
import { openBackend, submit } from "../src/index.js";
import { until } from "./support/cli-process.js";
import { chaosSettings, expectedChaosOutput, ProcessPool, Rng } from "./support/chaos.js";
import { DRIVERS, type DriverCase } from "./support/drivers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/chaos/", import.meta.url));
const SLUG = "chaos";
const WORKERS = 3;
/** Short timings so a killed worker's steps are reclaimed within the test (stale ≥ 3 × heartbeat, as the worker asks). */
const TIMINGS = ["--heartbeat-ms", "250", "--stale-ms", "1500", "--poll-ms", "100"];
const settings = chaosSettings(process.env);
console.log(
  `[chaos] seed ${settings.seed}, ${settings.runs} runs, ${settings.seconds} s of chaos, ${WORKERS} workers × ${settings.concurrency} slots (replay: CAIRN_CHAOS_SEED=${settings.seed})`,
);

/** How one idempotency key is submitted: first by the library, the CLI or two CLI processes at once; then maybe again. */
interface KeyPlan {
  key: string;
  n: number;
  /** ms after the chaos starts. */
  at: number;
  /** race: two `cairn submit` processes started together, both finding the key new. */
  first: "library" | "cli" | "race";
  again: Array<{ by: "library" | "cli"; at: number }>;
}

/** One kill -9: when, in ms after the chaos starts (the victim is drawn at that moment). */
interface KillPlan {
  at: number;
}

/** The kill times, drawn from the seed: every 1–3 s until the chaos ends. */
function planKills(rng: Rng, seconds: number): KillPlan[] {
  const kills: KillPlan[] = [];
  for (let at = rng.int(1000, 3000); at < seconds * 1000; at += rng.int(1000, 3000)) kills.push({ at });
  return kills;
}

/**
 * The submissions, drawn from the seed. 80 runs of short steps are only a few seconds of work, so most runs are
 * submitted in the 0.8 s before a kill (its victim is then likely mid-step, mid-write or mid-claim); the others are
 * spread over the chaos, as steady traffic. About a quarter of the keys are submitted again (maybe while the first
 * submission is still in flight); a few are submitted first by `cairn submit` processes, some by two of them at once.
 */
function planSubmissions(rng: Rng, runs: number, seconds: number, kills: readonly KillPlan[]): KeyPlan[] {
  let cliBudget = 10; // each CLI call is a process start: a handful keeps the test inside its minute
  return Array.from({ length: runs }, (_, i) => {
    const kill = kills.length && rng.chance(0.7) ? kills[rng.int(0, kills.length - 1)]! : undefined;
    const at = kill ? Math.max(0, kill.at - rng.int(0, 800)) : rng.int(0, seconds * 900);
    const roll = rng.next();
    const first = roll < 0.05 && cliBudget >= 2 ? "race" : roll < 0.1 && cliBudget >= 1 ? "cli" : "library";
    cliBudget -= first === "race" ? 2 : first === "cli" ? 1 : 0;
    const again: KeyPlan["again"] = [];
    if (rng.chance(0.25)) {
      const by = rng.chance(0.2) && cliBudget >= 1 ? "cli" : "library";
      if (by === "cli") cliBudget -= 1;
      again.push({ by, at: Math.min(seconds * 1000, at + rng.int(0, seconds * 500)) });
    }
    return { key: `chaos-${i}`, n: rng.int(0, 999_999), at, first, again };
  });
}

/** One submission's answer. */
interface Submitted {
  key: string;
  by: "library" | "cli";
  runId: string;
  isNew: boolean;
}

for (const driver of Object.values(DRIVERS)) defineChaos(driver);

function defineChaos(driver: DriverCase): void {
  const reason = driver.unavailable();
  (reason === null ? describe : describe.skip)(
    `chaos on ${driver.name}${reason ? ` (skipped: ${reason})` : ""}`,
    () => {
      let pool = new ProcessPool();
      let backend: Backend | undefined;
      let cleanup: () => Promise<void> = async () => {};
      let tmp = "";

      afterEach(async () => {
        await pool.killAll();
        pool = new ProcessPool();
        await backend?.close();
        backend = undefined;
        await cleanup();
        if (tmp) await rm(tmp, { recursive: true, force: true });
      }, 60_000);

      it(
        `kill -9 of random workers while runs are in flight: every run completes once, with the right output`,
        async () => {
          const { runs, seconds, seed, concurrency, drainSeconds } = settings;
          const procs = pool; // this test's processes, even if a loop of it outlives it
          const log = (msg: string) => console.log(`[chaos ${driver.name} seed ${seed}] ${msg}`);
          const rng = new Rng(seed);
          const killPlan = planKills(rng, seconds);
          const plan = planSubmissions(rng, runs, seconds, killPlan);
          const created = await driver.create();
          cleanup = created.cleanup;
          const env = { CAIRN_BACKEND: created.url };
          tmp = await mkdtemp(join(tmpdir(), `cairn-chaos-${driver.name}-`));
          const workflowsDir = join(tmp, "workflows");
          await mkdir(workflowsDir);
          await symlink(FIXTURE, join(workflowsDir, SLUG));
          const db = await openBackend(created.url);
          backend = db;

          const args = ["--workflows", workflowsDir, "--concurrency", String(concurrency), ...TIMINGS, "--quiet"];
          const ids: string[] = [];
          let generation = 0;
          const startWorker = (slot: number) => {
            ids[slot] = `chaos-${slot}-${generation++}`;
            return procs.worker([...args, "--worker-id", ids[slot]], env);
          };
          /** The slots whose worker holds a running step: a victim among them is surely caught mid-step. */
          const busySlots = async (): Promise<number[]> => {
            const holders = new Set<string>();
            for (const r of await db.listRuns({ workflowSlug: SLUG, status: ["running"] })) {
              for (const s of await db.loadRun(SLUG, r.runId))
                if (s.status === "running" && s.claimedBy) holders.add(s.claimedBy);
            }
            return ids.flatMap((id, slot) => (holders.has(id) ? [slot] : []));
          };
          const workers = Array.from({ length: WORKERS }, (_, slot) => startWorker(slot));
          await until(
            "the workers to register the chaos workflow",
            async () => (await db.getWorkflowMetadata(SLUG)) !== null,
            30_000,
          );

          const started = Date.now();
          const submitted: Submitted[] = [];
          const viaLibrary = async (p: KeyPlan) => {
            const r = await submit(db, { workflow: SLUG, input: { n: p.n }, idempotencyKey: p.key });
            submitted.push({ key: p.key, by: "library", ...r });
          };
          const viaCli = async (p: KeyPlan) => {
            const r = await procs.cli(
              ["submit", SLUG, "--input", JSON.stringify({ n: p.n }), "--idempotency-key", p.key, "--json"],
              env,
            );
            if (r.code !== 0) throw new Error(`cairn submit --idempotency-key ${p.key} exited ${r.code}: ${r.stderr}`);
            const out = JSON.parse(r.stdout) as { runId: string; isNew: boolean };
            submitted.push({ key: p.key, by: "cli", runId: out.runId, isNew: out.isNew });
          };
          const at = async (ms: number, fn: () => Promise<void>) => {
            await sleep(Math.max(0, started + ms - Date.now()));
            await fn();
          };
          const submissions = Promise.all(
            plan.flatMap((p) => [
              at(p.at, () =>
                p.first === "race"
                  ? Promise.all([viaCli(p), viaCli(p)]).then(() => {})
                  : p.first === "cli"
                    ? viaCli(p)
                    : viaLibrary(p),
              ),
              ...p.again.map((a) => at(a.at, () => (a.by === "cli" ? viaCli(p) : viaLibrary(p)))),
            ]),
          );

          const kills: string[] = [];
          const chaos = (async () => {
            for (const k of killPlan) {
              await sleep(Math.max(0, started + k.at - Date.now()));
              const busy = await busySlots();
              const choices = busy.length ? busy : workers.map((_, slot) => slot);
              const slot = choices[rng.int(0, choices.length - 1)]!;
              const victim = workers[slot]!;
              victim.child.kill("SIGKILL");
              await victim.exited;
              kills.push(
                `${((Date.now() - started) / 1000).toFixed(1)}s ${ids[slot]}${busy.includes(slot) ? " (busy)" : ""}`,
              );
              workers[slot] = startWorker(slot);
            }
          })();
          await Promise.all([submissions, chaos]);
          log(
            `chaos over after ${((Date.now() - started) / 1000).toFixed(1)} s: ${kills.length} kills (${kills.join(", ")}); ${submitted.length} submissions of ${plan.length} keys`,
          );

          // Drain: the survivors finish every run; a run still unfinished afterwards is stuck.
          const drainStart = Date.now();
          const live = async () => (await db.listRuns({ workflowSlug: SLUG, status: ["pending", "running"] })).length;
          try {
            await until("every run to end", async () => (await live()) === 0, drainSeconds * 1000, 200);
          } catch (err) {
            throw new Error(`${(err as Error).message}\n${await describeStuck(db)}`);
          }
          log(`drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`);

          // Idempotency: one run per key, whoever submitted it and however often; exactly one submission created it.
          const all = await db.listRuns({ workflowSlug: SLUG });
          const byKey = new Map(plan.map((p) => [p.key, p]));
          expect(all.length).toBe(plan.length);
          expect(new Set(all.map((r) => r.idempotencyKey)).size).toBe(plan.length);
          const runOfKey = new Map(all.map((r) => [r.idempotencyKey!, r]));
          for (const s of submitted)
            expect(s.runId, `submission of ${s.key} by ${s.by}`).toBe(runOfKey.get(s.key)?.runId);
          for (const p of plan)
            expect(
              submitted.filter((s) => s.key === p.key && s.isNew).length,
              `submissions of ${p.key} that said isNew`,
            ).toBe(1);

          let reclaims = 0;
          let attempts = 0;
          const problems: string[] = [];
          for (const run of all) {
            const p = byKey.get(run.idempotencyKey!)!;
            const steps = await db.loadEvents(SLUG, run.runId, { category: "step" });
            const flow = await db.loadEvents(SLUG, run.runId, { category: "workflow" });
            reclaims += steps.filter((e) => e.type === "StepReclaimed").length;
            attempts += steps.filter((e) => e.type === "StepStarted").length;
            const completions = new Map<string, number>();
            for (const e of steps)
              if (e.type === "StepCompleted") completions.set(e.stepId, (completions.get(e.stepId) ?? 0) + 1);
            const counts = ["a", "b", "c", "d", "e"].map((id) => `${id}×${completions.get(id) ?? 0}`).join(" ");
            if (counts !== "a×1 b×1 c×1 d×1 e×1")
              problems.push(
                `${run.runId} (${p.key}): StepCompleted per step ${counts}; step events: ${steps.map((e) => `${e.type}:${e.stepId}`).join(", ")}`,
              );
            if (run.status !== "completed")
              problems.push(
                `${run.runId} (${p.key}): status ${run.status} (${run.failureReason ?? ""} ${run.error?.message ?? ""})`,
              );
            else if (JSON.stringify(deserializeValue(run.output!)) !== JSON.stringify(expectedChaosOutput(p.n)))
              problems.push(
                `${run.runId} (${p.key}, n=${p.n}): output ${run.output}, expected ${JSON.stringify(expectedChaosOutput(p.n))}`,
              );
            const projected = projectRunState(flow);
            const stored = await db.loadRun(SLUG, run.runId);
            if (
              stored
                .map((s) => `${s.stepId}:${s.status}`)
                .sort()
                .join(" ") !== "a:completed b:completed c:completed d:completed e:completed"
            )
              problems.push(
                `${run.runId} (${p.key}): step states ${stored.map((s) => `${s.stepId}:${s.status}`).join(" ")}`,
              );
            if (projected?.status !== run.status)
              problems.push(
                `${run.runId} (${p.key}): stored status ${run.status} but its events project to ${projected?.status}`,
              );
            else if (!isDeepStrictEqual(plain(projected), plain(run)))
              problems.push(
                `${run.runId} (${p.key}): stored state ${JSON.stringify(run)} differs from the projection of its events ${JSON.stringify(projected)}`,
              );
          }
          log(
            `${all.length} runs checked: ${attempts} step attempts for ${all.length * 5} steps, ${reclaims} reclaims`,
          );
          expect(problems, `seed ${seed} on ${driver.name}`).toEqual([]);
          expect(kills.length).toBeGreaterThan(0);
          // Kills that never caught a worker mid-step would test nothing: at least one step was taken over.
          expect(reclaims, "StepReclaimed events").toBeGreaterThan(0);

          // The survivors still shut down cleanly after all that (once started: before its loop a worker has no handler yet).
          for (const [i, w] of workers.entries()) {
            await until(`survivor ${i} to start`, async () => w.output().includes(" started ("), 30_000);
            expect(await w.stop("SIGTERM"), w.output()).toEqual({ code: 0, signal: null });
          }
        },
        (settings.seconds + settings.drainSeconds + 90) * 1000,
      );
    },
  );
}

/** A value as JSON sees it: absent and undefined fields alike, key order irrelevant to isDeepStrictEqual. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Every unfinished run with its events, for the failure message of a stuck drain. */
async function describeStuck(db: Backend): Promise<string> {
  const stuck: RunState[] = (await db.listRuns({ workflowSlug: SLUG })).filter((r) => !isTerminalRunStatus(r.status));
  const lines = await Promise.all(
    stuck.map(async (r) => {
      const events = await db.loadEvents(SLUG, r.runId);
      return `${r.runId} (${r.idempotencyKey}) ${r.status}: ${events.map((e) => ("stepId" in e ? `${e.type}:${e.stepId}` : e.type)).join(", ")}`;
    }),
  );
  return `${stuck.length} run(s) stuck:\n${lines.join("\n")}`;
}
