import type pg from "pg";
import { checkGuard, foldWithFollowUp, foldWithFollowUpAsync, type FoldedWrite } from "@cairn/backend-interface";
import { readGate, type GateQueries } from "./postgres-gates.js";
import type {
  Event,
  EventOf,
  FollowUp,
  GuardVerdict,
  GuardedWrite,
  RunState,
  StepState,
  SubmissionResult,
  WriteGuard,
  WriteTarget,
} from "@cairn/backend-interface";
import type { PostgresConnection, Statement } from "./postgres-connection.js";
import {
  eventColumnArrays,
  eventConcurrencyArray,
  eventFigureArrays,
  projectFolded,
  runColumns,
  stepColumnArrays,
  type ProjectedWrite,
} from "./postgres-projections.js";
import type { Queries } from "./postgres-queries.js";

/** What the write paths need: the connection, the statements, the schema's notification channel. */
export interface WriteContext {
  conn: PostgresConnection;
  q: Queries;
  schema: string;
  channel: string;
  /** Flow-control gate statements. */
  g: GateQueries;
}

type LockRow = { step_id: string | null; workflow_slug: string | null; state: unknown };

/**
 * The guarded append, one transaction: lock the run row (share, or update when the events change the run or a
 * follow-up may) and the touched step rows (every step row of the run with a follow-up, which decides over the whole
 * run), evaluate the guard against their states, then append the events (and the follow-up's) and upsert the
 * projections computed by the reducers in one statement.
 */
export async function writeGuarded(
  ctx: WriteContext,
  target: WriteTarget,
  guard: WriteGuard,
  events: Event[],
  follow?: FollowUp,
): Promise<GuardVerdict> {
  return ctx.conn.tx((c) => writeGuardedOn(c, ctx, target, guard, events, follow));
}

/**
 * Guarded writes of many runs in ONE transaction (one commit), each checked on its own; runs are locked in run-id
 * order (no deadlock between two batches), the writes of one run in their given order. Verdicts in input order.
 */
export async function writeGuardedBatch(ctx: WriteContext, writes: GuardedWrite[]): Promise<GuardVerdict[]> {
  const order = writes
    .map((_, i) => i)
    .sort((a, b) => {
      const ra = writes[a]!.target.runId,
        rb = writes[b]!.target.runId;
      return ra < rb ? -1 : ra > rb ? 1 : a - b;
    });
  return ctx.conn.tx(async (c) => {
    const out: GuardVerdict[] = new Array(writes.length);
    for (const i of order) {
      const w = writes[i]!;
      out[i] = await writeGuardedOn(c, ctx, w.target, w.guard, w.events, w.follow);
    }
    return out;
  });
}

async function writeGuardedOn(
  c: pg.PoolClient,
  ctx: WriteContext,
  target: WriteTarget,
  guard: WriteGuard,
  written: Event[],
  follow?: FollowUp,
): Promise<GuardVerdict> {
  const { workflowSlug, runId } = target;
  const ids = new Set<string>();
  if (target.stepId !== undefined) ids.add(target.stepId);
  for (const e of written) if (e.category === "step") ids.add(e.stepId);
  const stepIds = [...ids].sort();
  const writesRun = follow !== undefined || written.some((e) => e.category === "workflow");
  const lock = follow
    ? { name: `${ctx.schema}:lockRun`, text: ctx.q.lockRun, values: [runId, workflowSlug] }
    : {
        name: `${ctx.schema}:${writesRun ? "lockUpdate" : "lockShare"}`,
        text: writesRun ? ctx.q.lockUpdate : ctx.q.lockShare,
        values: [runId, workflowSlug, stepIds],
      };
  const rows = (await c.query<LockRow>(lock)).rows;
  let run: RunState | null = null;
  let foreignRun = false;
  const steps = new Map<string, StepState>();
  for (const r of rows) {
    if (r.step_id === null) {
      if (r.workflow_slug === workflowSlug) run = r.state as RunState;
      else foreignRun = true; // the run id belongs to another workflow: its row is not ours to change
    } else steps.set(r.step_id, r.state as StepState);
  }
  const verdict = checkGuard(guard, run, target.stepId === undefined ? null : (steps.get(target.stepId) ?? null));
  if (!verdict.ok) return verdict;
  const own = foreignRun ? written.filter((e) => e.category === "step") : written;
  const after = await foldWithFollowUpAsync(run, steps, own, foreignRun ? undefined : follow, (q) =>
    readGate(c, ctx.g, ctx.schema, q),
  );
  const events = after.events;
  if (events.length === 0) return verdict;
  const projected = projectFolded(run, after.run, after.steps, events);
  await writeChecked(
    c,
    writeStatement(ctx, workflowSlug, runId, events, projected, projected.runChanged, [...steps.keys()], run !== null),
    projected,
    projected.runChanged,
  );
  return verdict;
}

/**
 * Atomic idempotent submission, one transaction: insert the run row (ON CONFLICT DO NOTHING covers both the run
 * id and the unique (workflow, idempotency key) index; a concurrent submitter waits for the first to commit),
 * and only if it was inserted append the events; otherwise report the existing run and its input.
 */
export async function writeSubmission(
  ctx: WriteContext,
  submitted: EventOf<"RunSubmitted">,
  extra: Event[],
  follow?: FollowUp,
): Promise<SubmissionResult> {
  // A new run's follow-up depends on its first events alone, unless flow control counts its gate (inside the transaction).
  const first = [submitted, ...extra];
  const none = new Map<string, StepState>();
  const ungated = foldWithFollowUp(null, none, first, follow);
  return ctx.conn.tx(async (c) => {
    const after: FoldedWrite =
      ungated.gateQuery === null
        ? ungated
        : await foldWithFollowUpAsync(null, none, first, follow, (q) => readGate(c, ctx.g, ctx.schema, q));
    const events = after.events;
    const projected = projectFolded(null, after.run, after.steps, events);
    const run = projected.run as RunState;
    const inserted = await c.query({
      name: `${ctx.schema}:insertRun`,
      text: ctx.q.insertRun,
      values: [run.runId, run.workflowSlug, ...runColumns(run)],
    });
    if (inserted.rowCount === 0) {
      const existing = await c.query<{ run_id: string; state: RunState }>({
        text: ctx.q.existingRun,
        values: [submitted.workflowSlug, submitted.idempotencyKey ?? null, submitted.runId],
      });
      const row = existing.rows[0];
      // The conflicting row vanished (its schema was dropped mid-call?): let the runner retry.
      if (!row) throw Object.assign(new Error("conflicting run disappeared"), { code: "40001" });
      return { created: false, runId: row.run_id, existingInput: row.state.input };
    }
    // Step rows written before the submission (if any) become live with the run.
    await writeChecked(
      c,
      writeStatement(ctx, run.workflowSlug, run.runId, events, { ...projected, liveBefore: false }, false, [], true),
      projected,
      false,
    );
    return { created: true, runId: run.runId };
  });
}

/** The write statement for one run: events, run row (when `withRun`), step rows, liveness, workers, wake-up. */
export function writeStatement(
  ctx: WriteContext,
  workflowSlug: string,
  runId: string,
  events: Event[],
  p: ProjectedWrite,
  withRun: boolean,
  knownSteps: string[],
  runExisted: boolean,
): Statement {
  const runVals = withRun && p.run ? runColumns(p.run) : [null, null, null, null, null, null, null, null];
  const workers = [...p.workers];
  return {
    name: `${ctx.schema}:write`,
    text: ctx.q.write,
    values: [
      runId,
      workflowSlug,
      ...eventColumnArrays(events),
      ...runVals,
      ...stepColumnArrays(p.steps.values(), p.liveAfter),
      p.liveBefore !== p.liveAfter ? p.liveAfter : null,
      workers.map((w) => w[0]),
      workers.map((w) => w[1]),
      p.notify ? ctx.channel : null,
      workflowSlug,
      ...eventFigureArrays(events),
      knownSteps,
      runExisted,
      eventConcurrencyArray(events),
    ],
  };
}

/** Runs the write statement; if a row appeared after the lock was taken (a concurrent first write), rolls back and retries. */
async function writeChecked(c: pg.PoolClient, stmt: Statement, p: ProjectedWrite, withRun: boolean): Promise<void> {
  const row = (await c.query<{ steps_written: number; runs_written: number }>(stmt)).rows[0];
  if (!row || row.steps_written !== p.steps.size || (withRun && p.run !== null && row.runs_written !== 1)) {
    throw Object.assign(new Error("a projection row appeared concurrently; retrying the write"), { code: "40001" });
  }
}
