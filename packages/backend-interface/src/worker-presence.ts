import { z } from "zod";
import { InvalidArgumentError } from "./errors.js";
import { assertWorkerId, assertWorkflowSlug, MAX_WORKER_ID_LENGTH } from "./identifiers.js";
import { DEFAULT_WORKER_STALE_THRESHOLD_US, type ActiveWorkersOptions, type WorkerInfo } from "./analytics/workers.js";
import { compareStrings } from "./analytics/window.js";
import { zodIssues } from "./validate-event.js";

/** Workers whose presence is older than this are no longer listed (the reference's 24 h window of workers). */
export const PRESENCE_WINDOW_US = 86_400_000_000;

/**
 * A worker's own record of being alive, written by the worker at an interval independent of steps: who it is, where
 * it runs, what it runs, and when it last said so. One record per worker id; each write replaces the previous.
 */
export const WorkerPresenceSchema = z.object({
  workerId: z.string().min(1).max(MAX_WORKER_ID_LENGTH),
  host: z.string().max(255),
  pid: z.number().int().nonnegative(),
  /** Steps the worker runs at once. */
  concurrency: z.number().int().positive(),
  /** Slugs of the workflows it runs. */
  workflows: z.array(z.string()),
  startedAtUs: z.number().int().nonnegative(),
  /** The backend's clock when the record was written. */
  lastSeenUs: z.number().int().nonnegative(),
  /** Set by the final write of a graceful stop (equal to lastSeenUs). */
  stoppedAtUs: z.number().int().nonnegative().optional(),
});
/** A worker's own record of being alive (see WorkerPresenceSchema). */
export type WorkerPresence = z.infer<typeof WorkerPresenceSchema>;

/** What a worker reports of itself (recordWorkerPresence); the backend adds lastSeenUs (and stoppedAtUs) from its clock. */
export interface WorkerPresenceInput {
  workerId: string;
  host: string;
  pid: number;
  concurrency: number;
  workflows: string[];
  /** When the worker started (µs); the same on every write of one worker. */
  startedAtUs: number;
  /** True on the final write of a graceful stop: the worker is inactive from then on. */
  stopped?: boolean;
}

/** Checks a presence input (worker id and slugs by the identifier rules, the rest by schema); throws a typed error. */
export function validatePresenceInput(input: WorkerPresenceInput): WorkerPresenceInput {
  if (input === null || typeof input !== "object")
    throw new InvalidArgumentError("recordWorkerPresence needs a presence object.");
  assertWorkerId(input.workerId);
  if (!Array.isArray(input.workflows))
    throw new InvalidArgumentError("workflows must be an array of workflow slugs.", { workerId: input.workerId });
  input.workflows.forEach((slug, i) => assertWorkflowSlug(slug, `workflows[${i}]`));
  if (input.stopped !== undefined && typeof input.stopped !== "boolean")
    throw new InvalidArgumentError("stopped must be a boolean.", { workerId: input.workerId });
  const parsed = WorkerPresenceSchema.omit({ lastSeenUs: true, stoppedAtUs: true }).safeParse(input);
  if (!parsed.success) {
    const detail = zodIssues(parsed.error)
      .map((i) => `${i.path || "(root)"}: ${i.message}`)
      .join("; ");
    throw new InvalidArgumentError(`Invalid worker presence of ${input.workerId} (${detail}). Nothing was written.`, {
      workerId: input.workerId,
    });
  }
  return { ...parsed.data, ...(input.stopped ? { stopped: true } : {}) };
}

/** A worker as the active-workers view shows it: the event-based figures plus what its presence record says. */
export interface LiveWorkerInfo extends WorkerInfo {
  host?: string;
  pid?: number;
  workflows?: string[];
  startedAtUs?: number;
  /** When it marked itself stopped (a graceful stop); it is inactive since. */
  stoppedAtUs?: number;
}

/**
 * Combines the reference's workers (from step events, computed with includeInactive) with presence records, at `nowUs`:
 * - a worker with a presence record is active when its latest sign of life (a step event or the presence write) is
 *   within the threshold, unless it marked itself stopped after its last step event;
 * - its concurrency is the one it declared, host, pid, workflows and startedAtUs are reported, firstSeenUs includes
 *   its start, lastSeenUs its presence; steps and current attempts stay the events' figures;
 * - a worker known only by presence (seen within PRESENCE_WINDOW_US) is listed with no steps.
 * Workers without presence are returned as given. Sorted by workerId; inactive ones only with includeInactive.
 */
export function mergeWorkerPresence(
  fromEvents: readonly WorkerInfo[],
  presences: readonly WorkerPresence[],
  options: ActiveWorkersOptions,
  nowUs: number,
): LiveWorkerInfo[] {
  const threshold = options.staleThresholdUs ?? DEFAULT_WORKER_STALE_THRESHOLD_US;
  const byId = new Map<string, LiveWorkerInfo>(fromEvents.map((w) => [w.workerId, w]));
  for (const p of presences) {
    if (p.lastSeenUs < nowUs - PRESENCE_WINDOW_US) continue;
    const e = byId.get(p.workerId);
    const lastSeenUs = Math.max(e?.lastSeenUs ?? 0, p.lastSeenUs);
    const stopped = p.stoppedAtUs !== undefined && p.stoppedAtUs >= (e?.lastSeenUs ?? 0);
    byId.set(p.workerId, {
      workerId: p.workerId,
      firstSeenUs: Math.min(e?.firstSeenUs ?? Infinity, p.startedAtUs, p.lastSeenUs),
      lastSeenUs,
      isActive: !stopped && nowUs - lastSeenUs <= threshold,
      concurrency: p.concurrency,
      stepsStarted: e?.stepsStarted ?? 0,
      runningSteps: e?.runningSteps ?? 0,
      currentSteps: e?.currentSteps ?? [],
      host: p.host,
      pid: p.pid,
      workflows: [...p.workflows],
      startedAtUs: p.startedAtUs,
      ...(stopped ? { stoppedAtUs: p.stoppedAtUs } : {}),
    });
  }
  const all = [...byId.values()].sort((a, b) => compareStrings(a.workerId, b.workerId));
  return options.includeInactive ? all : all.filter((w) => w.isActive);
}
