import { BackendPresence } from "./backend-presence.js";
import type { BackendDriver, EndedRunsQuery } from "./backend-driver.js";
import { assertWorkflowSlug } from "./identifiers.js";
import { InvalidArgumentError } from "./errors.js";

/** The statuses of runs that have ended, the only ones deleteEndedRuns may delete. */
export const ENDED_RUN_STATUSES = ["completed", "failed", "cancelled"] as const;

/** Options of deleteEndedRuns. */
export interface DeleteEndedRunsOptions {
  /** Runs that ended at least this long ago (ms, from the backend's clock). */
  olderThanMs: number;
  /** Which ended statuses; default all three. */
  statuses?: ReadonlyArray<(typeof ENDED_RUN_STATUSES)[number]>;
  workflowSlug?: string;
  /** At most this many runs per call (a bounded batch); default 500, at most 10,000. */
  limit?: number;
  /** List what would be deleted, delete nothing. */
  dryRun?: boolean;
}

/**
 * The retention layer of Backend: deleting runs that ended long enough ago, with all their events, projections and
 * index entries, in bounded batches. A run that has not ended is never deleted, whatever the options say: the
 * driver re-checks inside each delete. Analytics over a window afterwards cover the runs that remain.
 */
export abstract class BackendRetention<D extends BackendDriver = BackendDriver> extends BackendPresence<D> {
  /** Deletes (or with dryRun lists) up to `limit` ended runs older than `olderThanMs`, oldest ended first; returns their ids. */
  async deleteEndedRuns(options: DeleteEndedRunsOptions): Promise<{ runIds: string[]; dryRun: boolean }> {
    const query = this.endedRunsQuery(options);
    const candidates = await this.store.queryEndedRuns(query);
    if (options.dryRun) return { runIds: candidates.map((r) => r.runId), dryRun: true };
    return { runIds: candidates.length === 0 ? [] : await this.store.deleteRuns(candidates), dryRun: false };
  }

  private endedRunsQuery(o: DeleteEndedRunsOptions): EndedRunsQuery {
    if (o === null || typeof o !== "object")
      throw new InvalidArgumentError(
        "deleteEndedRuns takes options: { olderThanMs, statuses?, workflowSlug?, limit?, dryRun? }.",
      );
    if (typeof o.olderThanMs !== "number" || !Number.isFinite(o.olderThanMs) || o.olderThanMs < 0) {
      throw new InvalidArgumentError(
        `olderThanMs must be a non-negative number of milliseconds, got ${String(o.olderThanMs)}.`,
      );
    }
    const statuses = o.statuses ?? ENDED_RUN_STATUSES;
    if (!Array.isArray(statuses) || statuses.length === 0)
      throw new InvalidArgumentError("statuses must list at least one of completed, failed, cancelled.");
    for (const s of statuses) {
      if (!(ENDED_RUN_STATUSES as readonly string[]).includes(s)) {
        throw new InvalidArgumentError(
          `Cannot delete runs with status ${JSON.stringify(s)}: only ended runs (completed, failed, cancelled) are deleted.`,
        );
      }
    }
    if (o.workflowSlug !== undefined) assertWorkflowSlug(o.workflowSlug);
    const limit = o.limit ?? 500;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new InvalidArgumentError(`limit must be an integer from 1 to 10000, got ${String(limit)}.`);
    return {
      statuses: [...new Set(statuses)],
      endedBeforeUs: this.clock.nowUs() - Math.round(o.olderThanMs * 1000),
      limit,
      ...(o.workflowSlug !== undefined ? { workflowSlug: o.workflowSlug } : {}),
    };
  }
}
