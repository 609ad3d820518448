/** Cairn in the peer comparison: the real worker (`startWorker`, 10 slots, nothing else set) on a driver of bench/drivers.ts. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deserializeValue, type Backend, type RunSubmissionInput } from "@cairn/backend-interface";
import { discoverWorkflows, openBackend, registerWorkflows, startWorker } from "@cairn/worker";
import { createDriver, type DriverName } from "../drivers.js";
import { pool } from "../stats.js";
import { SLOTS, type PeerSystem, type StartPeerWorker } from "./peer-system.js";

const WORKFLOWS = join(dirname(fileURLToPath(import.meta.url)), "..", "workflows");
/** The 1-step no-op, the 5-step chain, and the 1-step workflow whose step returns its start time (latency). */
const SLUG = { 1: "noop-1", 5: "noop-5", stamp: "stamp-1", gated: "noop-1-gated" } as const;

type BatchSubmit = (
  items: RunSubmissionInput[],
) => Promise<Array<{ runId: string; isNew: boolean } | { error: unknown }>>;

/** `submitRuns` when the Backend has it (being added on main), else submitRun with 8 in flight. */
export function submitMode(backend: Backend): "submitRuns" | "submitRun" {
  return typeof (backend as unknown as { submitRuns?: unknown }).submitRuns === "function" ? "submitRuns" : "submitRun";
}

async function submitAll(backend: Backend, items: RunSubmissionInput[]): Promise<void> {
  if (submitMode(backend) === "submitRuns") {
    const results = await (backend as unknown as { submitRuns: BatchSubmit }).submitRuns(items);
    const failed = results.find((r) => "error" in r);
    if (failed) throw new Error(`submitRuns: ${String((failed as { error: unknown }).error)}`);
    return;
  }
  await pool(items, 8, async (item) => {
    await backend.submitRun(item);
  });
}

/**
 * Cairn on a driver, draining runs of the 1-step no-op (or the 5-step chain: `steps` 5; or, `gated`, the 1-step no-op
 * under a concurrency declaration that never binds: what flow control costs the same drain).
 */
export function cairnPeer(driver: DriverName, steps: 1 | 5 = 1, gated = false): PeerSystem {
  const slug = gated ? SLUG.gated : SLUG[steps];
  return {
    id: `cairn-${driver}${steps === 5 ? "-chain5" : ""}${gated ? "-gated" : ""}`,
    config: `startWorker({ concurrency: ${SLOTS} }), ${slug}`,
    kind: "cairn",
    driver,
    stepsPerJob: steps,
    prepare: async () => {
      const inst = await createDriver(driver);
      // Deploying registers the workflows (as a worker or `cairn workflows` would) before anything is enqueued, so
      // runs are store-driven: started at submit, like graphile-worker's jobs are ready at addJobs.
      await registerWorkflows(inst.backend, (await discoverWorkflows(WORKFLOWS)).workflows);
      return {
        location: JSON.stringify({ url: inst.url, slug }),
        enqueueApi: submitMode(inst.backend) === "submitRuns" ? "submitRuns (one call)" : "submitRun, 8 in flight",
        enqueueMany: (n) =>
          submitAll(
            inst.backend,
            Array.from({ length: n }, (_, i) => ({ workflowSlug: slug, input: gated ? { i, k: `k${i}` } : { i } })),
          ),
        enqueueOne: async (i) => (await inst.backend.submitRun({ workflowSlug: SLUG.stamp, input: { i } })).runId,
        destroy: () => inst.destroy(),
      };
    },
  };
}

/** The start time the stamp step put in the run's output. */
function stampOf(output: string | undefined): number {
  const value =
    output === undefined
      ? undefined
      : (deserializeValue(output) as Record<string, { startedAtMs?: unknown }> | undefined);
  const at = value ? Object.values(value).find((v) => typeof v?.startedAtMs === "number")?.startedAtMs : undefined;
  if (typeof at !== "number") throw new Error(`stamp-1 run output has no startedAtMs: ${output}`);
  return at;
}

/**
 * Starts the worker in this process. The store advances runs, so the worker's events are about steps: a run counts as
 * started when its first step is claimed (drain) or at the time its stamp step returned in the run output (latency,
 * read once the run's last step completed); a run is finished when its last step completed (the store completed the
 * run in that same write).
 */
export const startCairnWorker: StartPeerWorker = async (location, hooks, mode) => {
  const { url, slug } = JSON.parse(location) as { url: string; slug: string };
  const backend = await openBackend(url);
  const seen = new Set<string>();
  const done = new Map<string, number>();
  let stepsPerRun = 1;
  const worker = await startWorker({
    backend,
    workflowsDir: WORKFLOWS,
    concurrency: SLOTS,
    onEvent: (e) => {
      if (e.type === "step:claimed" && mode === "drain" && !seen.has(e.runId)) {
        seen.add(e.runId);
        hooks.started(e.runId, performance.timeOrigin + performance.now());
      } else if (e.type === "step:completed") {
        const n = (done.get(e.runId) ?? 0) + 1;
        if (n < stepsPerRun) return void done.set(e.runId, n);
        done.delete(e.runId);
        hooks.finished();
        if (mode === "idle") void backend.getRun(e.runId).then((r) => hooks.started(e.runId, stampOf(r?.output)));
      } else if (e.type === "step:failed" || e.type === "error")
        process.stderr.write(
          `[cairn worker] ${JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? v.message : v))}\n`,
        );
    },
  });
  stepsPerRun = worker.workflows.find((w) => w.slug === slug)?.steps.length ?? 1;
  return {
    drained: async () =>
      (await backend.listRuns({ workflowSlug: slug, status: ["pending", "running"], limit: 1 })).length === 0,
    stop: async () => {
      await worker.stop();
      await backend.close();
    },
  };
};
