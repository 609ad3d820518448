/**
 * Tracked runs: runs recorded by the standalone tracker (`createTracker` in @cairn/client) for work that runs outside
 * the worker (a web request, a script, a serverless function). They are made of the same events as a worker's runs,
 * with `tracked: true` on their RunSubmitted, and are left alone by everything that drives worker runs:
 *  - their steps are never scheduled (the tracker writes StepStarted directly, guard `tracked-step`), so no worker
 *    claims them, and the `claim` guard refuses a tracked run's step in any case;
 *  - the `stale` guard refuses to reclaim a step of a tracked run, so a maintenance pass leaves it running (the
 *    tracker's process, not a heartbeat, decides how it ends);
 *  - they have no version, so the store engine (advanceRun) neither starts, schedules, completes nor fails them.
 */

/** What `Backend.startTrackedRun` takes: a submission without scheduling fields (the run starts at once). */
export interface TrackedRunStart {
  /** The run's workflow slug (an identifier; the workflow need not be registered). */
  workflowSlug: string;
  runId?: string;
  input?: unknown;
  /** What kind of run this is (see RunLabelSchema). */
  runType?: string;
  /** What started the run: "cron", "api", "webhook", … (see RunLabelSchema). */
  trigger?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
}
