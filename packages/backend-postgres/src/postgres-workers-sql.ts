/**
 * How stale a worker's row may get before a write touches it again (µs). The workers table records workers seen
 * through StepStarted / StepHeartbeat; its last_seen_us is therefore exact to within this interval (the events
 * themselves, which analytics read, are exact).
 */
export const WORKER_TOUCH_INTERVAL_US = 1_000_000;

/**
 * The upsert of the workers rows of a write, as a CTE body. `source` is a FROM item with columns (id, ts), `when` a
 * condition on the write having happened. A row seen within WORKER_TOUCH_INTERVAL_US is left alone, decided by a
 * plain (lock-free) read: an ON CONFLICT DO UPDATE locks the conflicting row even when its WHERE is false, so
 * upserting on every claim and heartbeat made every concurrent write of one worker (a worker's slots share its id)
 * wait for the previous one's commit, one at a time. Now at most one write per worker and interval takes the lock.
 */
export function touchWorkersSql(s: string, source: string, when = "TRUE"): string {
  return `INSERT INTO ${s}.workers AS w (worker_id, first_seen_us, last_seen_us)
        SELECT k.id, k.ts, k.ts FROM ${source}
        WHERE (${when}) AND NOT EXISTS (SELECT 1 FROM ${s}.workers x WHERE x.worker_id = k.id AND x.last_seen_us >= k.ts - ${WORKER_TOUCH_INTERVAL_US})
        ON CONFLICT (worker_id) DO UPDATE SET last_seen_us = EXCLUDED.last_seen_us WHERE w.last_seen_us < EXCLUDED.last_seen_us
        RETURNING 1`;
}
