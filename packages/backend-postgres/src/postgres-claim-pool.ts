import pg from "pg";

/**
 * How the claim pool's sessions plan. `plan_cache_mode = force_generic_plan`: each prepared statement is planned
 * once per connection. The ready-queue claim is one large CTE that Postgres otherwise plans again on most executions
 * (its generic plan looks dearer to the planner than the custom ones, though it is the same plan): ~1.2 ms of planning
 * per claim on a 2-core machine, on the path from enqueue to start. No bitmap or sequential scans: every scan of these
 * statements is an index lookup or the walk of the partial ready index in claim order that stops after `limit` rows.
 * Without statistics (a queue filled since the last ANALYZE), the planner takes the ready predicate for rare and
 * would otherwise read every ready step through a bitmap and sort them, on every claim until autovacuum analyzes.
 * postgres-claim-plan.test.ts checks the plans: made on an empty queue, on a full one without statistics, after ANALYZE.
 */
export const CLAIM_SESSION_OPTIONS = "-c plan_cache_mode=force_generic_plan -c enable_bitmapscan=off -c enable_seqscan=off";

/**
 * A small pool (2 connections, opened on first use) for the claims that take the next ready steps, with the
 * session settings above. Only those claims use it; the other statements keep the planner's defaults, which the
 * optional filters of listings and analytics need.
 */
export function claimPool(pool: pg.Pool, applicationName: string | undefined): pg.Pool {
  const base = (pool as unknown as { options: pg.PoolConfig }).options;
  // Sent in the startup packet, so no statement runs first. An `options` parameter in the connection string takes
  // precedence over this one (node-postgres reads the URL last): then the claims are planned as Postgres decides.
  const options = [base.options, CLAIM_SESSION_OPTIONS].filter(Boolean).join(" ");
  return new pg.Pool({ ...base, options, max: 2, application_name: `${applicationName ?? base.application_name ?? "cairn"}-claims` });
}
