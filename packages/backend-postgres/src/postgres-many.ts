import type pg from "pg";
import { checkGuard, foldWithFollowUp } from "@cairn/backend-interface";
import type {
  Event,
  EventOf,
  FollowUp,
  GuardVerdict,
  GuardedWrite,
  RunState,
  StepState,
  SubmissionResult,
} from "@cairn/backend-interface";
import type { Statement } from "./postgres-connection.js";
import type { ManySqlQueries } from "./postgres-many-sql.js";
import {
  eventConcurrencyArray,
  eventFigureArrays,
  lastSeen,
  projectFolded,
  type ProjectedWrite,
} from "./postgres-projections.js";
import type { WriteContext } from "./postgres-writes.js";
import { writeGatedSubmissions } from "./postgres-gated-submit.js";
import { pauseLockPrefix } from "./postgres-queries.js";

/** One run's share of a batch: its events and the rows they project to, against what was locked. */
interface RunWrite {
  workflowSlug: string;
  runId: string;
  events: Event[];
  projected: ProjectedWrite;
  /** Step ids whose rows existed (and were locked) before the write. */
  known: ReadonlySet<string>;
  runExisted: boolean;
}

/** A run as the batch lock read it, and as the batch's writes so far left it. */
interface LockedRun {
  workflowSlug: string | null;
  run: RunState | null;
  steps: Map<string, StepState>;
  known: Set<string>;
  events: Event[];
  initialRun: RunState | null;
}

/**
 * Guarded writes of many runs in one transaction of four round trips (BEGIN, one lock of every run and its steps in
 * run-id order, one set-based write, COMMIT): each write is checked on its own against the state the earlier writes
 * of the batch left, its follow-up decided over that state, and the rows of all runs are stored by one statement.
 * Returns null when a write needs the per-write path (a run without a row gaining workflow events).
 */
export async function writeGuardedMany(
  ctx: WriteContext,
  mq: ManySqlQueries,
  writes: GuardedWrite[],
): Promise<GuardVerdict[] | null> {
  const runIds = [...new Set(writes.map((w) => w.target.runId))].sort();
  return ctx.conn.tx(async (c) => {
    const locked = await lockRuns(c, ctx, mq, runIds);
    const out: GuardVerdict[] = [];
    for (const w of writes) {
      const l = locked.get(w.target.runId)!;
      const foreign = l.workflowSlug !== null && l.workflowSlug !== w.target.workflowSlug; // the run id is another workflow's
      const run = foreign ? null : l.run;
      const verdict = checkGuard(
        w.guard,
        run,
        w.target.stepId === undefined ? null : (l.steps.get(w.target.stepId) ?? null),
      );
      out.push(verdict);
      if (!verdict.ok) continue;
      const written = foreign ? w.events.filter((e) => e.category === "step") : w.events;
      if (l.run === null && written.some((e) => e.category === "workflow")) return null;
      const after = foldWithFollowUp(run, l.steps, written, foreign ? undefined : w.follow);
      // A gate count must see the batch's earlier writes, which this path stores only at the end: per-write path.
      if (after.gateQuery !== null) return null;
      if (!foreign) l.run = after.run;
      l.steps = after.steps;
      l.events.push(...after.events);
      l.workflowSlug ??= w.target.workflowSlug;
    }
    const runs: RunWrite[] = [];
    for (const [runId, l] of locked) {
      if (l.events.length === 0) continue;
      const projected = projectFolded(l.initialRun, l.run, l.steps, l.events);
      runs.push({
        workflowSlug: l.workflowSlug!,
        runId,
        events: l.events,
        projected,
        known: l.known,
        runExisted: l.initialRun !== null,
      });
    }
    if (runs.length) await writeChecked(c, manyStatement(ctx, mq, runs), runs);
    return out;
  });
}

/**
 * Many submissions in one autocommitted statement (submitMany: the new runs, their events and step rows, one NOTIFY),
 * plus one read of the existing runs of the items that were not inserted (their key or id was taken). An item whose
 * run id already has step rows (written before the run was submitted) goes through `oneByOne`, the transactional
 * path that folds those rows in.
 */
export async function writeSubmissionsMany(
  ctx: WriteContext,
  mq: ManySqlQueries,
  submitted: Array<EventOf<"RunSubmitted">>,
  follow: FollowUp | undefined,
  oneByOne: (event: EventOf<"RunSubmitted">) => Promise<SubmissionResult>,
): Promise<SubmissionResult[]> {
  const none = new Map<string, StepState>();
  const folded = submitted.map((s) => foldWithFollowUp(null, none, [s], follow));
  // Flow control counts gates inside the write: gated batches are decided set-wise per chunk (writeGatedSubmissions),
  // else (a crowded gate, a taken key) one by one, in item order.
  if (follow && folded.some((f) => f.gateQuery !== null)) {
    const out: SubmissionResult[] = [];
    for (let from = 0; from < submitted.length; from += SUBMIT_CHUNK) {
      const chunk = submitted.slice(from, from + SUBMIT_CHUNK);
      const queries = folded.slice(from, from + SUBMIT_CHUNK).map((f) => f.gateQuery);
      const statementOf = (items: Array<{ events: Event[]; projected: ProjectedWrite }>) =>
        submitStatement(ctx, mq, items);
      const set = chunk.length > 1 ? await writeGatedSubmissions(ctx, mq, chunk, queries, follow, statementOf) : null;
      if (set) out.push(...set);
      else for (const s of chunk) out.push(await oneByOne(s));
    }
    // As below: fresh planner statistics after a bulk submission, which the claim's plan depends on.
    await analyzeAfterBulk(ctx, mq, out.filter((r) => r.created).length);
    return out;
  }
  const prepared = submitted.map((s, i) => {
    const f = folded[i]!;
    return { submitted: s, events: f.events, projected: projectFolded(null, f.run, f.steps, f.events) };
  });
  // Insert in key order, so two batches with shared keys wait on each other in one order (never a deadlock); one
  // item per run id (a later one with the same id is answered as the existing run).
  const order = prepared
    .map((_, i) => i)
    .sort((a, b) => {
      const ka = keyOf(prepared[a]!.submitted),
        kb = keyOf(prepared[b]!.submitted);
      return ka < kb ? -1 : ka > kb ? 1 : a - b;
    });
  const seen = new Set<string>();
  const firsts = order.filter((i) => !seen.has(prepared[i]!.submitted.runId) && seen.add(prepared[i]!.submitted.runId));
  const results: SubmissionResult[] = new Array(prepared.length);
  let insertedRuns = 0;
  // Statements of at most SUBMIT_CHUNK runs: each is atomic for its runs (every item is idempotent on its own anyway).
  for (let from = 0; from < firsts.length; from += SUBMIT_CHUNK) {
    const chunk = firsts.slice(from, from + SUBMIT_CHUNK);
    const row = (
      await ctx.conn.query<{ inserted: string[]; steps_inserted: number; paused_workflows: string[] }>(
        submitStatement(
          ctx,
          mq,
          chunk.map((i) => prepared[i]!),
        ),
      )
    ).rows[0]!;
    const inserted = new Set(row.inserted);
    const paused = new Set(row.paused_workflows);
    let expectedSteps = 0;
    for (const i of chunk) {
      const p = prepared[i]!;
      if (!inserted.has(p.submitted.runId)) continue;
      results[i] = { created: true, runId: p.submitted.runId, workflowPaused: paused.has(p.submitted.workflowSlug) };
      expectedSteps += p.projected.steps.size;
    }
    if (row.steps_inserted !== expectedSteps)
      throw new Error(
        `submitRuns: ${expectedSteps - row.steps_inserted} step row(s) appeared concurrently for new runs`,
      );
    insertedRuns += inserted.size;
  }
  await analyzeAfterBulk(ctx, mq, insertedRuns);
  const others = prepared.map((_, i) => i).filter((i) => results[i] === undefined);
  if (others.length) {
    const subs = others.map((i) => prepared[i]!.submitted);
    const rows = (
      await ctx.conn.query<{ ord: string; run_id: string; state: RunState }>({
        name: `${ctx.schema}:existingRuns`,
        text: mq.existingRuns,
        values: [subs.map((s) => s.workflowSlug), subs.map((s) => s.idempotencyKey ?? null), subs.map((s) => s.runId)],
      })
    ).rows;
    const byOrd = new Map(rows.map((r) => [Number(r.ord) - 1, r]));
    for (const [k, i] of others.entries()) {
      const existing = byOrd.get(k);
      results[i] = existing
        ? { created: false, runId: existing.run_id, existingInput: existing.state.input }
        : await oneByOne(prepared[i]!.submitted);
    }
  }
  return results;
}

/** The submitMany statement for new runs (each a RunSubmitted and what its follow-up appended). */
function submitStatement(
  ctx: WriteContext,
  mq: ManySqlQueries,
  items: Array<{ events: Event[]; projected: ProjectedWrite }>,
): Statement {
  const runs: unknown[][] = Array.from({ length: 10 }, () => []);
  const ev: unknown[][] = Array.from({ length: 7 }, () => []);
  const events: Event[] = [];
  const steps: unknown[][] = Array.from({ length: 11 }, () => []);
  for (const { events: evs, projected: p } of items) {
    const r = p.run as RunState;
    [
      r.runId,
      r.workflowSlug,
      r.status,
      p.liveAfter,
      r.availableAtUs,
      r.priority,
      r.createdAtUs,
      r.idempotencyKey ?? null,
      JSON.stringify(r.tags),
      r,
    ].forEach((v, i) => runs[i]!.push(v));
    for (const e of evs) {
      [r.runId, r.workflowSlug, e.eventId, e.category === "step" ? e.stepId : null, e.type, e.timestampUs, e].forEach(
        (v, i) => ev[i]!.push(v),
      );
      events.push(e);
    }
    for (const st of p.steps.values()) {
      [
        r.runId,
        r.workflowSlug,
        st.stepId,
        st.status,
        p.liveAfter,
        st.availableAtUs ?? null,
        st.priority,
        st.attemptNumber,
        lastSeen(st),
        st.createdAtUs,
        st,
      ].forEach((v, i) => steps[i]!.push(v));
    }
  }
  return {
    name: `${ctx.schema}:submitMany`,
    text: mq.submitMany,
    values: [
      ...documents(runs),
      ...documents(ev),
      ...eventFigureArrays(events),
      eventConcurrencyArray(events),
      ...documents(steps),
      ctx.channel,
      items[0]?.events[0]?.workflowSlug ?? "",
      pauseLockPrefix(ctx.schema),
    ],
  };
}
/**
 * Column arrays whose last column holds documents (events, run or step states): that column goes as ONE json array
 * text (json_array_elements in the statement) instead of a json[] parameter, so each document is serialised once by
 * JSON.stringify and not escaped again element by element into an array literal.
 */
function documents(columns: unknown[][]): unknown[] {
  return [...columns.slice(0, -1), JSON.stringify(columns[columns.length - 1])];
}

/** The most runs one submission statement inserts (larger batches are split; bounded statement size and memory). */
const SUBMIT_CHUNK = 1000;
/** A submission of at least this many new runs may refresh the planner statistics (see analyzeAfterBulk). */
const ANALYZE_AFTER = 1000;

/**
 * A bulk submission into a small table leaves the statistics stale until autovacuum analyzes it (up to a minute): the
 * claim's planner then expects a handful of ready steps and sorts the whole queue for every claim. So a submission of
 * ANALYZE_AFTER runs or more analyzes the tables when their statistics know of fewer rows than it inserted. Beyond
 * that the planner scales the row counts it knows by the tables' current size, so a large batch submitted in chunks
 * analyzes once, not once per chunk.
 */
async function analyzeAfterBulk(ctx: WriteContext, mq: ManySqlQueries, insertedRuns: number): Promise<void> {
  if (insertedRuns < ANALYZE_AFTER) return;
  const known = Number(
    (await ctx.conn.query<{ reltuples: number }>({ name: `${ctx.schema}:stepsKnown`, text: mq.stepsKnown, values: [] }))
      .rows[0]?.reltuples ?? -1,
  );
  if (known < insertedRuns) await ctx.conn.query({ text: mq.analyze, values: [] });
}

function keyOf(s: EventOf<"RunSubmitted">): string {
  return s.idempotencyKey === undefined ? `1\0${s.runId}` : `0\0${s.workflowSlug}\0${s.idempotencyKey}`;
}

async function lockRuns(
  c: pg.PoolClient,
  ctx: WriteContext,
  mq: ManySqlQueries,
  runIds: string[],
): Promise<Map<string, LockedRun>> {
  const rows = (
    await c.query<{ run_id: string; step_id: string | null; workflow_slug: string | null; state: unknown }>({
      name: `${ctx.schema}:lockRuns`,
      text: mq.lockRuns,
      values: [runIds],
    })
  ).rows;
  const out = new Map<string, LockedRun>(
    runIds.map((id) => [
      id,
      { workflowSlug: null, run: null, steps: new Map(), known: new Set(), events: [], initialRun: null },
    ]),
  );
  for (const r of rows) {
    const l = out.get(r.run_id)!;
    if (r.step_id === null) {
      l.workflowSlug = r.workflow_slug;
      l.run = l.initialRun = r.state as RunState;
    } else {
      l.steps.set(r.step_id, r.state as StepState);
      l.known.add(r.step_id);
    }
  }
  return out;
}

/** The one statement storing the events and rows of many runs. */
function manyStatement(ctx: WriteContext, mq: ManySqlQueries, runs: RunWrite[]): Statement {
  const ev: unknown[][] = Array.from({ length: 7 }, () => []);
  const events: Event[] = [];
  const runUpd: unknown[][] = Array.from({ length: 9 }, () => []);
  const stepUpd: unknown[][] = Array.from({ length: 9 }, () => []);
  const stepIns: unknown[][] = Array.from({ length: 11 }, () => []);
  const live: unknown[][] = [[], []];
  const workers = new Map<string, number>();
  let notify = false;
  for (const w of runs) {
    for (const e of w.events) {
      [w.runId, w.workflowSlug, e.eventId, e.category === "step" ? e.stepId : null, e.type, e.timestampUs, e].forEach(
        (v, i) => ev[i]!.push(v),
      );
      events.push(e);
    }
    const p = w.projected;
    if (p.runChanged && p.run && w.runExisted) {
      const r = p.run;
      [
        r.runId,
        r.status,
        p.liveAfter,
        r.availableAtUs,
        r.priority,
        r.createdAtUs,
        r.idempotencyKey ?? null,
        JSON.stringify(r.tags),
        r,
      ].forEach((v, i) => runUpd[i]!.push(v));
    }
    for (const s of p.steps.values()) {
      if (w.known.has(s.stepId)) {
        [
          w.runId,
          s.stepId,
          s.status,
          p.liveAfter,
          s.availableAtUs ?? null,
          s.priority,
          s.attemptNumber,
          lastSeen(s),
          s,
        ].forEach((v, i) => stepUpd[i]!.push(v));
      } else {
        [
          w.runId,
          w.workflowSlug,
          s.stepId,
          s.status,
          p.liveAfter,
          s.availableAtUs ?? null,
          s.priority,
          s.attemptNumber,
          lastSeen(s),
          s.createdAtUs,
          s,
        ].forEach((v, i) => stepIns[i]!.push(v));
      }
    }
    if (p.liveBefore !== p.liveAfter) {
      live[0]!.push(w.runId);
      if (p.liveAfter) live[1]!.push(w.runId);
    }
    for (const [id, ts] of p.workers) workers.set(id, Math.max(workers.get(id) ?? 0, ts));
    notify ||= p.notify;
  }
  return {
    name: `${ctx.schema}:writeMany`,
    text: mq.writeMany,
    values: [
      ...documents(ev),
      ...eventFigureArrays(events),
      eventConcurrencyArray(events),
      ...documents(runUpd),
      ...documents(stepUpd),
      ...documents(stepIns),
      ...live,
      [...workers.keys()],
      [...workers.values()],
      notify ? ctx.channel : null,
      runs[0]?.workflowSlug ?? "",
    ],
  };
}

/** Runs the statement; when a row it meant to update was missing, or one it meant to insert appeared concurrently, rolls back and retries. */
async function writeChecked(c: pg.PoolClient, stmt: Statement, runs: RunWrite[]): Promise<void> {
  let runsUpdated = 0,
    stepsUpdated = 0,
    stepsInserted = 0;
  for (const w of runs) {
    if (w.projected.runChanged && w.projected.run && w.runExisted) runsUpdated++;
    for (const id of w.projected.steps.keys()) w.known.has(id) ? stepsUpdated++ : stepsInserted++;
  }
  const row = (await c.query<{ runs_updated: number; steps_updated: number; steps_inserted: number }>(stmt)).rows[0];
  if (
    row &&
    row.runs_updated === runsUpdated &&
    row.steps_updated === stepsUpdated &&
    row.steps_inserted === stepsInserted
  )
    return;
  throw Object.assign(new Error("a projection row appeared concurrently; retrying the write"), { code: "40001" });
}
