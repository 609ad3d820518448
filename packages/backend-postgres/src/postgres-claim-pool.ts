import pg from "pg";

/**
 * How the claim pool's sessions plan. `plan_cache_mode = force_generic_plan`: each prepared statement is planned
 * once per connection. The ready-queue claim is one large CTE that Postgres otherwise plans again on most executions
 * (its generic plan looks dearer to the planner than the custom ones, though it is the same plan): ~1.2 ms of planning
 * per claim on a 2-core machine, on the path from enqueue to start. No bitmap or sequential scans, no hash or merge
 * joins: every scan of these statements is a walk of a partial ready index in claim order that stops after `limit`
 * rows, or an index lookup of one of the few rows found, in nested loops. A plan is otherwise at the mercy of the
 * statistics it was made with: without them (a queue filled since the last ANALYZE) the planner takes the ready
 * predicate for rare and reads every ready step through a bitmap and sorts them; with them, a plan made once for any
 * limit expects hundreds of claimed rows and joins them to the whole steps table. postgres-claim-plan.test.ts checks
 * the plans, made on an empty queue, on a full one without statistics and after ANALYZE.
 */
export const CLAIM_SESSION_OPTIONS =
  "-c plan_cache_mode=force_generic_plan -c enable_bitmapscan=off -c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off";

/**
 * A small pool (`size` connections, 2 by default, opened on first use) for the claims that take the next ready steps,
 * with the session settings above. Only those claims use it; the other statements keep the planner's defaults, which the
 * optional filters of listings and analytics need.
 */
export function claimPool(pool: pg.Pool, applicationName: string | undefined, size = 2): pg.Pool {
  const base = (pool as unknown as { options: pg.PoolConfig }).options;
  // Sent in the startup packet, so no statement runs first. An `options` parameter in the connection string takes
  // precedence over this one (node-postgres reads the URL last): then the claims are planned as Postgres decides.
  const options = [base.options, CLAIM_SESSION_OPTIONS].filter(Boolean).join(" ");
  return new pg.Pool({
    ...base,
    options,
    max: size,
    application_name: `${applicationName ?? base.application_name ?? "cairn"}-claims`,
  });
}
