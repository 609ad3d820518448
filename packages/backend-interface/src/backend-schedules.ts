import type { BackendDriver, Cursor } from "./backend-driver.js";
import { BackendTriggers } from "./backend-triggers.js";
import type { CairnError } from "./errors.js";
import { InvalidArgumentError } from "./errors.js";
import { dueTicks, latestTick, nextTick } from "./schedule-spec.js";
import type { WorkflowMetadata } from "./schemas.js";
import type { RunSubmissionInput } from "./submission.js";

/** The key of a workflow's last-tick cursor. */
export function scheduleCursorKey(workflowSlug: string): string {
  return `schedule/${workflowSlug}`;
}

/** The idempotency key of the run a schedule tick starts (scoped to its workflow): the tick's time. */
export function scheduleIdempotencyKey(tickMs: number): string {
  return `schedule:${new Date(tickMs).toISOString()}`;
}

/** One scheduled workflow as `cairn schedules` shows it. */
export interface ScheduleInfo {
  workflowSlug: string;
  cron: string[];
  timezone: string;
  backfillMs?: number;
  /** The last tick started (µs), or null when the schedule never ticked. */
  lastTickUs: number | null;
  /** The next tick to come (µs), or null when the expressions have none. */
  nextTickUs: number | null;
}

/** What one tickSchedules pass did. */
export interface ScheduleTickResult {
  /** Runs of the ticks this pass owed, new or found already started by another host for the same tick. */
  runs: Array<{ workflowSlug: string; runId: string; scheduledAtUs: number; isNew: boolean }>;
  /** Ticks whose run could not be submitted (say, an input schema that refuses `{ scheduledAt }`); they are not retried. */
  failed: Array<{ workflowSlug: string; scheduledAtUs: number; error: CairnError }>;
}

type Scheduled = WorkflowMetadata & { schedule: NonNullable<WorkflowMetadata["schedule"]> };

/**
 * The schedule layer of Backend: the ticks of every registered workflow's `schedule`, each started exactly once
 * however many hosts call tickSchedules. The store decides twice over: each tick's run is submitted with the tick's
 * time as its idempotency key (so concurrent hosts find one run), and a cursor per workflow records the last tick
 * started, advanced by compare-and-set, so a tick is never owed again once passed (not even after retention deleted
 * its run) and a host that was down catches up from it, within the backfill window only.
 */
export abstract class BackendSchedules<D extends BackendDriver = BackendDriver> extends BackendTriggers<D> {
  /**
   * Starts the runs the schedules owe at `atUs` (default: the backend's clock), of the workflows in `workflowSlugs`
   * (default: every registered one). Each run's input is `{ scheduledAt: <the tick, ISO 8601> }`. A schedule seen for
   * the first time without `backfill` starts nothing: its first run is its next tick.
   */
  async tickSchedules(options: { atUs?: number; workflowSlugs?: readonly string[] } = {}): Promise<ScheduleTickResult> {
    this.assertOpen();
    const atUs = options.atUs ?? this.clock.nowUs();
    if (!Number.isInteger(atUs) || atUs < 0)
      throw new InvalidArgumentError(`atUs must be a non-negative integer of µs, got ${String(atUs)}.`);
    const only = options.workflowSlugs ? new Set(options.workflowSlugs) : undefined;
    const scheduled = (await this.listWorkflowMetadata()).filter(
      (w): w is Scheduled => w.schedule !== undefined && (!only || only.has(w.slug)),
    );
    if (scheduled.length === 0) return { runs: [], failed: [] };
    const cursors = await this.readScheduleCursors(scheduled);
    const nowMs = Math.floor(atUs / 1000);
    const items: RunSubmissionInput[] = [];
    const owed: Array<{ wf: Scheduled; tickMs: number }> = [];
    const advance: Array<{ expected: string | null; key: string; lastMs: number }> = [];
    for (const wf of scheduled) {
      const cursor = cursors.get(wf.slug);
      const lastMs = cursor ? Number(cursor.value) / 1000 : null;
      const ticks = dueTicks(wf.schedule, lastMs, nowMs);
      if (ticks.length === 0) {
        // First sight, nothing to catch up: the baseline is the latest tick passed, so the next one is owed.
        if (!cursor)
          advance.push({
            expected: null,
            key: scheduleCursorKey(wf.slug),
            lastMs: latestTick(wf.schedule, nowMs) ?? nowMs,
          });
        continue;
      }
      for (const tickMs of ticks) {
        owed.push({ wf, tickMs });
        const scheduledAt = new Date(tickMs).toISOString();
        items.push({
          workflowSlug: wf.slug,
          input: { scheduledAt },
          idempotencyKey: scheduleIdempotencyKey(tickMs),
          metadata: { trigger: { schedule: scheduledAt } },
        });
      }
      advance.push({ expected: cursor?.value ?? null, key: scheduleCursorKey(wf.slug), lastMs: ticks.at(-1)! });
    }
    // Runs first, cursor after: a host that dies between the two leaves the tick owed, and the next pass finds its run.
    const outcomes = items.length ? await this.submitRuns(items) : [];
    for (const a of advance)
      await this.store.compareAndSetCursor(a.expected, { key: a.key, value: String(a.lastMs * 1000), atUs });
    const result: ScheduleTickResult = { runs: [], failed: [] };
    outcomes.forEach((o, k) => {
      const { wf, tickMs } = owed[k]!;
      if (o.ok)
        result.runs.push({ workflowSlug: wf.slug, runId: o.runId, scheduledAtUs: tickMs * 1000, isNew: o.isNew });
      else result.failed.push({ workflowSlug: wf.slug, scheduledAtUs: tickMs * 1000, error: o.error });
    });
    return result;
  }

  /** Every registered schedule with its last tick started and its next tick after `atUs` (default: the backend's clock), by workflow slug. */
  async listSchedules(options: { atUs?: number } = {}): Promise<ScheduleInfo[]> {
    this.assertOpen();
    const atUs = options.atUs ?? this.clock.nowUs();
    const scheduled = (await this.listWorkflowMetadata()).filter((w): w is Scheduled => w.schedule !== undefined);
    const cursors = await this.readScheduleCursors(scheduled);
    return scheduled.map((wf) => {
      const cursor = cursors.get(wf.slug);
      const next = nextTick(wf.schedule, Math.floor(atUs / 1000));
      return {
        workflowSlug: wf.slug,
        cron: [...wf.schedule.cron],
        timezone: wf.schedule.timezone ?? "UTC",
        ...(wf.schedule.backfillMs === undefined ? {} : { backfillMs: wf.schedule.backfillMs }),
        lastTickUs: cursor ? Number(cursor.value) : null,
        nextTickUs: next === null ? null : next * 1000,
      };
    });
  }

  private async readScheduleCursors(scheduled: readonly Scheduled[]): Promise<Map<string, Cursor>> {
    const bySlug = new Map<string, Cursor>();
    const found = await this.store.readCursors(scheduled.map((w) => scheduleCursorKey(w.slug)));
    for (const c of found) bySlug.set(c.key.slice("schedule/".length), c);
    return bySlug;
  }
}
