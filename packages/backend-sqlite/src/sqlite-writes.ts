import type { Database, Statement } from "better-sqlite3";
import {
  checkGuard,
  InvalidEventError,
  isTerminalRunStatus,
  reduceRunState,
  reduceStepState,
  type Event,
  type EventOf,
  type GuardVerdict,
  type FollowUp,
  type RunState,
  type StepState,
  type SubmissionResult,
  type WriteGuard,
  type WriteTarget,
} from "@cairn/backend-interface";
import { encodeJson } from "./sqlite-codec.js";
import { factOf, INSERT_FACT } from "./sqlite-facts.js";
import type { SqliteGates } from "./sqlite-gates.js";
import type { RunRow, SqliteQueries } from "./sqlite-queries.js";

/** A runs row as a write reads it: the columns a guard needs, and the state, decoded only when the write needs it. */
interface RunHead extends RunRow {
  status: RunState["status"];
  live: number;
  available_at_us: number;
}

/** A step's state being updated by one batch. */
interface StepSlot {
  state: StepState | null;
  firstSeq: number | undefined;
  dirty: boolean;
}

/** Events to append, or a function building them from the guarded step's current state (claims need its attempt number). */
export type EventSource = Event[] | ((step: StepState | null) => Event[]);

/**
 * The write side of the SQLite driver. Every method must run inside a `BEGIN IMMEDIATE` transaction: it reads
 * the run and step rows, checks the guard, appends the events and folds them into the projection rows with the
 * authoritative reducers, all in that one transaction, so the rows always equal the projection of the events.
 */
export class SqliteWrites {
  private readonly s: Record<
    | "runHead"
    | "insertEvent"
    | "upsertRun"
    | "upsertStep"
    | "setStepsLive"
    | "deleteTags"
    | "insertTag"
    | "getKey"
    | "insertKey"
    | "insertFact",
    Statement
  >;

  constructor(
    db: Database,
    private readonly reader: SqliteQueries,
    private readonly gates: SqliteGates,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      runHead: p("SELECT run_id, workflow_slug, status, live, available_at_us, state FROM runs WHERE run_id = ?"),
      insertEvent: p(
        "INSERT INTO events (run_id, workflow_slug, step_id, category, type, timestamp_us, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      upsertRun:
        p(`INSERT INTO runs (run_id, workflow_slug, status, live, created_at_us, available_at_us, priority, state, flow_key, started_at_us, tenant_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, live = excluded.live, created_at_us = excluded.created_at_us,
                    available_at_us = excluded.available_at_us, priority = excluded.priority, state = excluded.state, flow_key = excluded.flow_key,
                    started_at_us = excluded.started_at_us, tenant_id = excluded.tenant_id`),
      upsertStep:
        p(`INSERT INTO steps (run_id, step_id, workflow_slug, status, run_live, attempt_number, priority, available_at_us, last_seen_us, first_seq, state)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, run_live = excluded.run_live, attempt_number = excluded.attempt_number,
                     priority = excluded.priority, available_at_us = excluded.available_at_us, last_seen_us = excluded.last_seen_us, state = excluded.state`),
      setStepsLive: p("UPDATE steps SET run_live = ? WHERE run_id = ? AND run_live <> ?"),
      deleteTags: p("DELETE FROM run_tags WHERE run_id = ?"),
      insertTag: p("INSERT OR IGNORE INTO run_tags (tag, run_id) VALUES (?, ?)"),
      getKey: p("SELECT run_id FROM idempotency_keys WHERE workflow_slug = ? AND idempotency_key = ?"),
      insertKey: p(
        "INSERT INTO idempotency_keys (workflow_slug, idempotency_key, run_id, created_at_us) VALUES (?, ?, ?, ?)",
      ),
      insertFact: p(INSERT_FACT),
    };
  }

  /** Checks `guard` against the run and step rows and, when it holds, appends the events (and the follow-up's) and updates the projections. */
  guardedWrite(target: WriteTarget, guard: WriteGuard, source: EventSource, follow?: FollowUp): GuardVerdict {
    const head = this.s.runHead.get(target.runId) as RunHead | undefined;
    const batch = new Batch(this.reader, target.workflowSlug, target.runId);
    const step = target.stepId === undefined ? null : batch.step(target.stepId).state;
    if (guard.kind !== "none") {
      // Guards read only a run's status and availableAt, which are columns: no need to decode the run's JSON. Except
      // the ones that ask whether the run is tracked (reclaims, schedules by hand, tracked step starts; none on the
      // claim path): they read its state.
      const needsState = guard.kind === "stale" || guard.kind === "tracked-step" || guard.kind === "schedule";
      const runView =
        head && head.workflow_slug === target.workflowSlug
          ? needsState
            ? this.reader.decodeRun(head)
            : ({ status: head.status, availableAtUs: head.available_at_us } as RunState)
          : null;
      const verdict = checkGuard(guard, runView, step);
      if (!verdict.ok) return verdict;
    }
    this.append(batch, head, typeof source === "function" ? source(step) : source, follow);
    return { ok: true };
  }

  /** Creates a run atomically, honouring its idempotency key (per workflow) and the uniqueness of run ids. */
  submit(submitted: EventOf<"RunSubmitted">, extra: Event[], follow?: FollowUp): SubmissionResult {
    const key = submitted.idempotencyKey;
    if (key !== undefined) {
      const existing = this.s.getKey.get(submitted.workflowSlug, key) as { run_id: string } | undefined;
      if (existing)
        return { created: false, runId: existing.run_id, existingInput: this.reader.run(existing.run_id)?.input };
    }
    const head = this.s.runHead.get(submitted.runId) as RunHead | undefined;
    if (head) return { created: false, runId: submitted.runId, existingInput: this.reader.decodeRun(head)?.input };
    this.append(
      new Batch(this.reader, submitted.workflowSlug, submitted.runId),
      undefined,
      [submitted, ...extra],
      follow,
    );
    if (key !== undefined) this.s.insertKey.run(submitted.workflowSlug, key, submitted.runId, submitted.timestampUs);
    return { created: true, runId: submitted.runId };
  }

  private append(batch: Batch, head: RunHead | undefined, events: Event[], follow?: FollowUp): void {
    if (events.length === 0 && !follow) return;
    const owner = head?.workflow_slug ?? batch.workflowSlug;
    let run: RunState | null | undefined;
    let runDirty = false;
    let oldTags: string[] = [];
    const loadRun = (): RunState | null => {
      if (run === undefined) {
        run = head ? this.reader.decodeRun(head) : null;
        oldTags = run?.tags ?? [];
      }
      return run;
    };
    const insert = (ev: Event): void => {
      if (ev.runId !== batch.runId || ev.workflowSlug !== owner) {
        throw new InvalidEventError(
          "Event does not belong to this run",
          [
            {
              path: "workflowSlug",
              message: `run ${batch.runId} belongs to workflow ${owner}, the event to ${ev.workflowSlug}/${ev.runId}`,
            },
          ],
          { runId: ev.runId },
        );
      }
      const seq = Number(
        this.s.insertEvent.run(
          ev.runId,
          ev.workflowSlug,
          ev.category === "step" ? ev.stepId : null,
          ev.category,
          ev.type,
          ev.timestampUs,
          encodeJson(ev),
        ).lastInsertRowid,
      );
      const fact = factOf(ev, seq);
      if (fact) this.s.insertFact.run(...fact);
      if (ev.category === "workflow") {
        run = reduceRunState(loadRun(), ev);
        runDirty = true;
      } else {
        const slot = batch.step(ev.stepId);
        slot.state = reduceStepState(slot.state, ev);
        slot.firstSeq ??= seq;
        slot.dirty = true;
      }
    };
    for (const ev of events) insert(ev);
    if (follow) {
      const after = loadRun();
      const query = follow.gateQuery?.(after) ?? null;
      for (const ev of follow(after, batch.allSteps(), query ? this.gates.count(query) : undefined)) insert(ev);
    }
    const wasLive = head?.live === 1;
    const live = runDirty && run ? !isTerminalRunStatus(run.status) : wasLive;
    if (runDirty && run) {
      this.s.upsertRun.run(
        run.runId,
        run.workflowSlug,
        run.status,
        live ? 1 : 0,
        run.createdAtUs,
        run.availableAtUs,
        run.priority,
        encodeJson(run),
        run.flowKey ?? null,
        run.startedAtUs ?? null,
        run.tenantId ?? null,
      );
      if (run.tags.length !== oldTags.length || run.tags.some((t, i) => t !== oldTags[i])) {
        this.s.deleteTags.run(run.runId);
        for (const tag of run.tags) this.s.insertTag.run(tag, run.runId);
      }
    }
    for (const slot of batch.slots()) {
      const s = slot.state;
      if (!slot.dirty || !s) continue;
      this.s.upsertStep.run(
        s.runId,
        s.stepId,
        s.workflowSlug,
        s.status,
        live ? 1 : 0,
        s.attemptNumber,
        s.priority,
        s.availableAtUs ?? null,
        s.lastHeartbeatUs ?? s.startTimeUs ?? 0,
        slot.firstSeq ?? 0,
        encodeJson(s),
      );
    }
    // The other step rows of the run take its new liveness (none are left when this write stored every row of the run).
    if (live !== wasLive && !batch.wroteEveryStep()) this.s.setStepsLive.run(live ? 1 : 0, batch.runId, live ? 1 : 0);
  }
}

/** The steps of one run touched by one write, loaded on first use. */
class Batch {
  private readonly cache = new Map<string, StepSlot>();
  private complete = false;
  constructor(
    private readonly reader: SqliteQueries,
    readonly workflowSlug: string,
    readonly runId: string,
  ) {}

  step(stepId: string): StepSlot {
    let slot = this.cache.get(stepId);
    if (!slot) {
      // Once every row of the run was read, a step not among them has no row.
      const row = this.complete ? undefined : this.reader.stepRow(this.runId, stepId);
      slot = { state: row ? this.reader.decodeStep(row) : null, firstSeq: row?.first_seq, dirty: false };
      this.cache.set(stepId, slot);
    }
    return slot;
  }

  slots(): Iterable<StepSlot> {
    return this.cache.values();
  }

  /** True when every step row of the run is known to this write and is being written by it. */
  wroteEveryStep(): boolean {
    if (!this.complete) return false;
    for (const slot of this.cache.values()) if (!slot.dirty) return false;
    return true;
  }

  /** Every step of the run as it stands in this write (rows read once, then this write's changes). */
  allSteps(): Map<string, StepState> {
    if (!this.complete) {
      for (const row of this.reader.stepRows(this.workflowSlug, this.runId)) {
        if (!this.cache.has(row.step_id))
          this.cache.set(row.step_id, { state: this.reader.decodeStep(row), firstSeq: row.first_seq, dirty: false });
      }
      this.complete = true;
    }
    const out = new Map<string, StepState>();
    for (const [id, slot] of this.cache) if (slot.state) out.set(id, slot.state);
    return out;
  }
}
