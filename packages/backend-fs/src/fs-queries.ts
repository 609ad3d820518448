import type {
  AnalyticsWindow,
  Event,
  LiveState,
  ListRunsOptions,
  ListScheduledOptions,
  RunState,
  StepRef,
  StepState,
} from "@cairn/backend-interface";
import { ageMs, readDirOrEmpty, removeIfExists } from "./fs-atomic.js";
import { mapLimit } from "./fs-concurrency.js";
import type { EventLog } from "./fs-event-log.js";
import type { FsIndexes } from "./fs-indexes.js";
import type { FsLayout, RunAddress } from "./fs-layout.js";

const NON_TERMINAL = new Set(["pending", "running"]);

/**
 * The indexed queries of the filesystem store. The polling ones (scheduled steps, stale steps, active workflows,
 * live state) read only the live-run markers and those runs' views, so they cost in proportion to live work;
 * listRuns walks the created-at index newest first and stops at the limit. Nothing here reads finished runs' events
 * except when asked for them.
 */
export class FsQueries {
  constructor(
    private readonly layout: FsLayout,
    private readonly log: EventLog,
    private readonly indexes: FsIndexes,
    private readonly orphanGraceMs: number,
  ) {}

  /** Scheduled steps available by `availableBefore` in live runs: priority desc, availableAt asc, runId, stepId. */
  async scheduledSteps(
    options: ListScheduledOptions & { availableBefore: number; workflowSlugs?: readonly string[] | undefined },
  ): Promise<StepRef[]> {
    const found: StepState[] = [];
    const slugs = options.workflowSlugs;
    const only = slugs?.length === 1 ? slugs[0] : options.workflowSlug;
    for (const view of await this.indexes.liveViews(only, slugs && slugs.length > 1 ? new Set(slugs) : undefined)) {
      for (const s of view.steps.values())
        if (s.status === "scheduled" && (s.availableAtUs ?? 0) <= options.availableBefore) found.push(s);
    }
    found.sort(
      (x, y) =>
        y.priority - x.priority ||
        (x.availableAtUs ?? 0) - (y.availableAtUs ?? 0) ||
        cmp(x.runId, y.runId) ||
        cmp(x.stepId, y.stepId),
    );
    const limited = options.limit === undefined ? found : found.slice(0, options.limit);
    return limited.map((s) => ({ workflowSlug: s.workflowSlug, runId: s.runId, stepId: s.stepId }));
  }

  /** Running steps of live runs whose last heartbeat (or start) is before `heartbeatBeforeUs`. */
  async staleSteps(heartbeatBeforeUs: number): Promise<StepState[]> {
    const out: StepState[] = [];
    for (const view of await this.indexes.liveViews()) {
      for (const s of view.steps.values()) {
        if (s.status === "running" && (s.lastHeartbeatUs ?? s.startTimeUs ?? 0) < heartbeatBeforeUs)
          out.push(structuredClone(s));
      }
    }
    return out.sort((x, y) => cmp(x.runId, y.runId) || cmp(x.stepId, y.stepId));
  }

  /** Pending runs of registered versions due by `nowUs`, longest due first (availableAt, runId). */
  async dueRuns(nowUs: number, limit: number): Promise<RunAddress[]> {
    const due = (await this.indexes.liveViews())
      .map((v) => v.run)
      .filter(
        (r): r is RunState =>
          r !== null &&
          r.status === "pending" &&
          r.versionId !== undefined &&
          r.flowKey === undefined &&
          r.availableAtUs <= nowUs,
      );
    due.sort((x, y) => x.availableAtUs - y.availableAtUs || cmp(x.runId, y.runId));
    return due.slice(0, limit).map((r) => ({ workflowSlug: r.workflowSlug, runId: r.runId }));
  }

  /** Running runs past their timeout at `nowUs`, longest overdue first. */
  async overdueRuns(nowUs: number, limit: number): Promise<RunAddress[]> {
    const deadline = (r: RunState): number => (r.startedAtUs ?? 0) + (r.timeoutUs ?? 0);
    const over = (await this.indexes.liveViews())
      .map((v) => v.run)
      .filter(
        (r): r is RunState =>
          r !== null &&
          r.status === "running" &&
          r.timeoutUs !== undefined &&
          r.startedAtUs !== undefined &&
          deadline(r) < nowUs,
      );
    over.sort((x, y) => deadline(x) - deadline(y) || cmp(x.runId, y.runId));
    return over.slice(0, limit).map((r) => ({ workflowSlug: r.workflowSlug, runId: r.runId }));
  }

  /** Slugs of workflows with a live run, sorted. */
  async activeWorkflows(): Promise<string[]> {
    const slugs = new Set((await this.indexes.liveViews()).map((v) => v.workflowSlug));
    return [...slugs].sort(cmp);
  }

  /** Live runs (of one workflow) and all their steps, copied. */
  async liveState(workflowSlug?: string): Promise<LiveState> {
    const views = await this.indexes.liveViews(workflowSlug);
    return {
      runs: views.map((v) => structuredClone(v.run as RunState)),
      steps: views.flatMap((v) => [...v.steps.values()].map((s) => structuredClone(s))),
    };
  }

  /** Runs newest first (createdAt desc, runId desc), filtered, stopping at `limit`. */
  async runs(options: ListRunsOptions): Promise<RunState[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const statuses = options.status && options.status.length > 0 ? new Set<string>(options.status) : undefined;
    const b = options.before;
    const inRange = (run: RunState): boolean =>
      (b === undefined ||
        run.createdAtUs < b.createdAtUs ||
        (run.createdAtUs === b.createdAtUs && run.runId < b.runId)) &&
      (options.createdAfterUs === undefined || run.createdAtUs >= options.createdAfterUs);
    const matches = (run: RunState): boolean =>
      (options.tenantId === undefined || run.tenantId === options.tenantId) &&
      (statuses === undefined || statuses.has(run.status)) &&
      (options.tags ?? []).every((t) => run.tags.includes(t)) &&
      inRange(run);
    if (statuses && [...statuses].every((s) => NON_TERMINAL.has(s))) {
      // Only live statuses asked for: the live markers hold every candidate.
      const runs = (await this.indexes.liveViews(options.workflowSlug)).map((v) => v.run as RunState).filter(matches);
      return runs
        .sort(newestFirst)
        .slice(0, limit)
        .map((r) => structuredClone(r));
    }
    const out: RunState[] = [];
    const pending: Array<RunAddress & { createdAtUs: number; entryPath: string }> = [];
    const flush = async (): Promise<void> => {
      const runs = await mapLimit(pending.splice(0), 16, (e) => this.verifiedRun(e));
      for (const r of runs) if (r && matches(r) && out.length < limit) out.push(structuredClone(r));
    };
    for await (const entry of this.indexes.createdNewestFirst(options.workflowSlug)) {
      // Newest first: entries before the cursor are skipped unread, and the walk ends past createdAfterUs.
      if (b && (entry.createdAtUs > b.createdAtUs || (entry.createdAtUs === b.createdAtUs && entry.runId >= b.runId)))
        continue;
      if (options.createdAfterUs !== undefined && entry.createdAtUs < options.createdAfterUs) break;
      pending.push(entry);
      // Read in small parallel chunks sized to what is still missing, so a limit of 20 reads about 20 runs.
      if (pending.length >= Math.min(64, Math.max(1, limit - out.length))) await flush();
      if (out.length >= limit) return out;
    }
    await flush();
    return out;
  }

  /** The run a created-at entry names, verified; entries of runs that never committed are repaired. */
  private async verifiedRun(e: RunAddress & { createdAtUs: number; entryPath: string }): Promise<RunState | null> {
    const view = await this.log.view(e);
    if (view.run && view.run.createdAtUs === e.createdAtUs) return view.run;
    if (view.run === null) {
      if (view.lastSeq >= 0) return null; // batch 0 damaged: reported when read, entry kept
      const recovered = await this.indexes.recoverOrphan(e, e.entryPath);
      if (recovered?.run && recovered.run.createdAtUs === e.createdAtUs) return recovered.run;
      return null;
    }
    // A leftover entry of a losing duplicate submission of this run id.
    const age = await ageMs(e.entryPath);
    if (age !== null && age > this.orphanGraceMs) await removeIfExists(e.entryPath);
    return null;
  }

  /** Every committed run id of a workflow, sorted. */
  async runIds(workflowSlug: string): Promise<string[]> {
    const ids = await readDirOrEmpty(this.layout.workflowRunsDir(workflowSlug));
    const committed = await mapLimit(ids, 32, async (runId) => {
      const text = await readDirOrEmpty(this.layout.eventsDir({ workflowSlug, runId }));
      return text.length > 0 ? runId : null;
    });
    return committed.filter((id): id is string => id !== null).sort(cmp);
  }

  /**
   * Events with timestamps in the window, each run's in order. Cost: the runs touched on the window's UTC days
   * (from the touched-day index) are read in full, then filtered; with `runIds` only those runs are read.
   */
  async analyticsEvents(window: AnalyticsWindow): Promise<Event[]> {
    let runs: RunAddress[];
    if (window.runIds) {
      const located = await mapLimit(window.runIds, 32, (id) => this.indexes.locate(id));
      runs = located.filter((a): a is RunAddress => a !== null);
    } else {
      runs = await this.indexes.touchedRuns(window.startUs, window.endUs);
    }
    if (window.workflowSlug !== undefined) runs = runs.filter((a) => a.workflowSlug === window.workflowSlug);
    runs.sort((x, y) => cmp(x.workflowSlug, y.workflowSlug) || cmp(x.runId, y.runId));
    const perRun = await mapLimit(runs, 16, async (a) =>
      (await this.log.readEvents(a)).filter((e) => e.timestampUs >= window.startUs && e.timestampUs <= window.endUs),
    );
    return perRun.flat();
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function newestFirst(x: RunState, y: RunState): number {
  return y.createdAtUs - x.createdAtUs || cmp(y.runId, x.runId);
}
