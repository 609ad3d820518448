import { createHash } from "node:crypto";
import { mkdir, readdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  countGate,
  gateOrder,
  isTerminalRunStatus,
  type Event,
  type FollowUp,
  type GateQuery,
  type GateRunsQuery,
  type GateView,
  type RunState,
  type Gate,
} from "@cairn/backend-interface";
import { LockFiles } from "./fs-lock-file.js";
import type { FsIndexes } from "./fs-indexes.js";

type RunRef = { workflowSlug: string; runId: string };

/**
 * Flow-control gates on the filesystem. Run logs need no lock, but deciding whether a run of a gate starts reads the
 * other runs of the gate, so every write that counts a gate holds the gate's lock file (`gates/<slug>/<key hash>.lock`,
 * created exclusively; one left by a process that died is broken after STALE_LOCK_MS) from the count until its
 * append is published. The count reads the live runs (running and pending ones are all live) plus the gate's start
 * records (`<key hash>.starts/<startedAtUs>-<runId>`), which remember recent starts of runs that have since ended
 * for rate limits; records older than the window asked about are pruned.
 *
 * Lock order: a gate lock is always taken before any run's in-process mutex, never while holding one.
 */
export class FsGates {
  private readonly locks = new LockFiles();

  constructor(
    private readonly root: string,
    private readonly indexes: FsIndexes,
  ) {}

  /**
   * Runs `write` with the gate of `q` locked, giving it a follow-up that decides on the gate's count; records the
   * run's start when the write started it.
   */
  async withGate<T>(q: GateQuery, follow: FollowUp, write: (follow: FollowUp) => Promise<T>): Promise<T> {
    const base = this.base(q.workflowSlug, q.flowKey);
    return this.locks.run(`${base}.lock`, async () => {
      const view = await this.count(q, base);
      let started: Event | undefined;
      const decided: FollowUp = (run, steps) => {
        const out = follow(run, steps, view);
        started = out.find((e) => e.type === "WorkflowStarted");
        return out;
      };
      const result = await write(decided);
      if (started) await this.recordStart(base, started.timestampUs, started.runId);
      return result;
    });
  }

  /** Runs of one gate in a status (pending ones in start order). */
  async gateRuns(q: GateRunsQuery): Promise<RunRef[]> {
    const runs = (await this.liveRuns(q.workflowSlug)).filter(
      (r) =>
        r.flowKey === q.flowKey &&
        r.status === q.status &&
        (q.availableByUs === undefined || r.availableAtUs <= q.availableByUs),
    );
    runs.sort(gateOrder);
    return runs.slice(0, q.limit).map((r) => ({ workflowSlug: r.workflowSlug, runId: r.runId }));
  }

  /** Gates with a pending run available by `nowUs`. */
  async waitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Promise<Gate[]> {
    const gates = new Map<string, Gate>();
    const wanted = among ? new Set(among.map((g) => JSON.stringify([g.workflowSlug, g.flowKey]))) : undefined;
    const slugs = among ? [...new Set(among.map((g) => g.workflowSlug))] : [undefined];
    for (const r of (await Promise.all(slugs.map((s) => this.liveRuns(s)))).flat()) {
      if (r.status !== "pending" || r.flowKey === undefined || r.availableAtUs > nowUs) continue;
      if (wanted && !wanted.has(JSON.stringify([r.workflowSlug, r.flowKey]))) continue;
      gates.set(JSON.stringify([r.workflowSlug, r.flowKey]), { workflowSlug: r.workflowSlug, flowKey: r.flowKey });
      if (gates.size >= limit) break;
    }
    return [...gates.values()];
  }

  private async liveRuns(workflowSlug?: string): Promise<RunState[]> {
    return (await this.indexes.liveViews(workflowSlug)).flatMap((v) =>
      v.run && !isTerminalRunStatus(v.run.status) ? [v.run] : [],
    );
  }

  /** The gate's count: its live runs, plus start records of ended runs when a rate limit asks. */
  private async count(q: GateQuery, base: string): Promise<GateView> {
    const live = await this.liveRuns(q.workflowSlug);
    if (q.startedSinceUs === undefined) return countGate(q, live);
    const liveIds = new Set(live.map((r) => r.runId));
    const ended = [];
    for (const name of await readdir(`${base}.starts`).catch(() => [] as string[])) {
      const [at, runId] = [Number(name.slice(0, name.indexOf("-"))), name.slice(name.indexOf("-") + 1)];
      if (!Number.isFinite(at) || at < q.startedSinceUs) {
        await unlink(join(`${base}.starts`, name)).catch(() => undefined);
        continue;
      }
      if (!liveIds.has(runId))
        ended.push({
          runId,
          workflowSlug: q.workflowSlug,
          flowKey: q.flowKey,
          status: "completed",
          priority: 0,
          createdAtUs: 0,
          availableAtUs: 0,
          startedAtUs: at,
        });
    }
    return countGate(q, [...live, ...ended]);
  }

  private async recordStart(base: string, atUs: number, runId: string): Promise<void> {
    await mkdir(`${base}.starts`, { recursive: true });
    await writeFile(join(`${base}.starts`, `${atUs}-${runId}`), "");
  }

  /** The path prefix of a gate's files: the key is hashed, so any key value makes a safe file name. */
  private base(workflowSlug: string, flowKey: string): string {
    return join(this.root, "gates", workflowSlug, createHash("sha256").update(flowKey).digest("hex").slice(0, 32));
  }
}
