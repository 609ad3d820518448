import { BackendMarks } from "./backend-marks.js";
import type { BackendDriver } from "./backend-driver.js";
import { ENDED_RUN_STATUSES } from "./backend-retention.js";
import type { WorkflowMetadata } from "./schemas.js";
import { InvalidArgumentError } from "./errors.js";

/** How long ended runs are kept, per status (ms); a status left out is kept forever. */
export type RetentionPolicy = NonNullable<WorkflowMetadata["retention"]>;

/** What one retention pass did. */
export interface RetentionPassResult {
  /** False when another host holds this slot's lease (then nothing was done). */
  ran: boolean;
  /** The runs deleted, by workflow. */
  deleted: Array<{ workflowSlug: string; runIds: string[] }>;
}

const KEYS = { completed: "completedMs", failed: "failedMs", cancelled: "cancelledMs" } as const;

/**
 * The retention-policy layer of Backend: one bounded pass that applies every registered workflow's `retention`
 * (else `defaults`), run by one host at a time: the pass takes the "retention" lease for its slot first, so any
 * number of workers or serverless ticks may call it and the deletions are done once per slot.
 */
export abstract class BackendRetentionPolicies<D extends BackendDriver = BackendDriver> extends BackendMarks<D> {
  /** Applies the retention policies once (at most `limit` runs per workflow and status); see RetentionPassResult. */
  async applyRetention(o: {
    holder: string;
    defaults?: RetentionPolicy;
    everyMs?: number;
    limit?: number;
  }): Promise<RetentionPassResult> {
    const everyMs = o.everyMs ?? 60_000;
    if (o.defaults !== undefined) checkPolicy(o.defaults);
    if (!(await this.acquireLease("retention", o.holder, everyMs))) return { ran: false, deleted: [] };
    const deleted: RetentionPassResult["deleted"] = [];
    for (const wf of await this.listWorkflowMetadata()) {
      const policy = { ...o.defaults, ...wf.retention };
      for (const status of ENDED_RUN_STATUSES) {
        const olderThanMs = policy[KEYS[status]];
        if (olderThanMs === undefined) continue;
        const { runIds } = await this.deleteEndedRuns({
          olderThanMs,
          statuses: [status],
          workflowSlug: wf.slug,
          limit: o.limit ?? 500,
        });
        if (runIds.length) deleted.push({ workflowSlug: wf.slug, runIds });
      }
    }
    await this.pruneLeases();
    return { ran: true, deleted };
  }
}

function checkPolicy(p: RetentionPolicy): void {
  for (const k of Object.values(KEYS)) {
    const v = p[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      throw new InvalidArgumentError(`retention.${k} must be a non-negative integer of ms, got ${String(v)}.`);
  }
}
