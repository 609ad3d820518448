import type { BackendDriver } from "./backend-driver.js";
import { BackendCore } from "./backend-core.js";
import type { FollowUp, WriteTarget } from "./backend-primitives.js";
import type { Event, EventOf } from "./events.js";
import type { GuardVerdict, WriteGuard } from "./guards.js";
import { ADVANCING_EVENTS, advanceRun, type MakeRunEvent } from "./run-advance.js";
import { gateQueryFor, newestWins } from "./run-admission.js";
import { gateLimit } from "./flow-control.js";
import { isTerminalRunStatus } from "./schemas.js";
import type { EventType } from "./events.js";

import { foldRun } from "./run-fold.js";
import { holdsFor, WAIT_EVENTS, wakeWaitingSteps } from "./run-waits.js";

const TERMINAL_RUN_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  "WorkflowCompleted",
  "WorkflowFailed",
  "WorkflowCancelled",
]);
import { runDagOf, type RunDag } from "./run-dag.js";
import type { RunState } from "./run-state.js";
import type { GuardedWrite } from "./backend-core.js";
import type { SubmissionResult } from "./backend-primitives.js";

/** Thrown inside a follow-up when the run's DAG is not loaded yet; the write is abandoned, the DAG loaded, the write retried. */
class DagNeeded extends Error {
  constructor(
    readonly workflowSlug: string,
    readonly versionId: string,
  ) {
    super(`the DAG of ${workflowSlug} version ${versionId} is not loaded`);
  }
}

/**
 * The engine layer of Backend: the store advances runs. A run submitted with a registered version (its DAG) is
 * store-driven: every write that may move it on (submit, a step's end, a reclaim, a retry) carries the follow-up
 * `advanceRun`, which the driver applies inside that same atomic write. Runs without a version (events appended by
 * hand) are advanced by whoever writes them, as before.
 *
 * Versions are immutable, so their DAGs are cached by (workflow, versionId) for the life of the backend.
 */
export abstract class BackendEngine<D extends BackendDriver = BackendDriver> extends BackendCore<D> {
  private readonly dags = new Map<string, RunDag | null>();

  /** The DAG of a version, loaded once; null when the version does not exist. */
  protected async loadDag(workflowSlug: string, versionId: string): Promise<RunDag | null> {
    const key = `${workflowSlug}\0${versionId}`;
    if (this.dags.has(key)) return this.dags.get(key) ?? null;
    const version = (await this.store.readVersions(workflowSlug, versionId))[0] ?? null;
    const dag = version ? runDagOf(version) : null;
    this.dags.set(key, dag);
    return dag;
  }

  /** Gates (`slug \0 key`) where a run ended: their waiting runs may start. Drained after every engine write. */
  private readonly freedGates = new Set<string>();

  /** The follow-up that advances a store-driven run (see advanceRun); synchronous, so drivers can run it inside any transaction. */
  protected readonly advance: FollowUp = this.advancing(false);
  /** The follow-up of the write that creates a run (flow control may refuse the submit there). */
  protected readonly advanceSubmitted: FollowUp = this.advancing(true);

  private advancing(submitting: boolean): FollowUp {
    const follow: FollowUp = (run, steps, gate) => {
      if (!run) return [];
      const make: MakeRunEvent = (type, stepId, body) =>
        this.buildEvent(type, run.workflowSlug, run.runId, stepId, body);
      const nowUs = this.clock.nowUs();
      // Waits first (a woken step is then scheduled like any other), then the DAG, then a paused run's holds over the result.
      const woken = wakeWaitingSteps(run, steps, nowUs, make);
      let state = foldRun(run, steps, woken);
      let moved: Event[] = [];
      const dag = run.versionId ? this.cachedDag(run.workflowSlug, run.versionId) : null;
      if (dag !== null) {
        moved = advanceRun(state.run, state.steps, dag, nowUs, make, gate, submitting);
        state = foldRun(state.run, state.steps, moved);
      }
      if (
        dag?.flow &&
        run.flowKey !== undefined &&
        (isTerminalRunStatus(run.status) || moved.some((e) => TERMINAL_RUN_EVENTS.has(e.type)))
      ) {
        this.freedGates.add(`${run.workflowSlug}\0${run.flowKey}`);
      }
      return [...woken, ...moved, ...holdsFor(state.run, state.steps, make)];
    };
    follow.gateQuery = (run) => {
      if (!run?.versionId || run.status !== "pending" || run.flowKey === undefined) return null;
      return gateQueryFor(run, this.cachedDag(run.workflowSlug, run.versionId)?.flow, this.clock.nowUs());
    };
    return follow;
  }

  /** The DAG of a version from the cache; throws DagNeeded (the write is retried once it is loaded) when not loaded. */
  private cachedDag(workflowSlug: string, versionId: string): RunDag | null {
    const dag = this.dags.get(`${workflowSlug}\0${versionId}`);
    if (dag === undefined) throw new DagNeeded(workflowSlug, versionId);
    return dag;
  }

  /** `base` with `fn` in its place: a follow-up that wraps the engine's keeps its gate query. */
  protected wrapFollow(base: FollowUp, fn: FollowUp): FollowUp {
    if (base.gateQuery) fn.gateQuery = base.gateQuery;
    return fn;
  }

  /**
   * Lets the waiting runs of gates where a run ended try to start (each decided by the store on the gate's count).
   * The maintenance sweep (startDueRuns) does the same for gates whose nudge was lost with a crashed process.
   */
  private async releaseFreedGates(): Promise<void> {
    while (this.freedGates.size > 0) {
      const gates = [...this.freedGates].map((g) => {
        const [workflowSlug, flowKey] = g.split("\0") as [string, string];
        return { workflowSlug, flowKey };
      });
      this.freedGates.clear();
      const nowUs = this.clock.nowUs();
      // One read for every gate a write freed; only gates with a run waiting go on to try it.
      for (const gate of await this.store.queryWaitingGates(nowUs, gates.length, gates))
        await this.startGate(gate.workflowSlug, gate.flowKey, nowUs);
    }
  }

  /**
   * Lets the waiting runs of one gate try to start, in FIFO order (only those available by `availableByUs` when given):
   * the head first, then larger batches while every run of the last batch changed (started, or ended by a rule). A gate
   * with no waiting run costs one read, a full one three reads and no write. Returns the runs changed.
   */
  protected async startGate(workflowSlug: string, flowKey: string, availableByUs?: number): Promise<string[]> {
    const changed: string[] = [];
    for (let batch = 1; batch <= 64; batch *= 2) {
      const waiting = await this.store.queryGateRuns({
        workflowSlug,
        flowKey,
        status: "pending",
        limit: batch,
        ...(availableByUs === undefined ? {} : { availableByUs }),
      });
      if (waiting.length === 0) break;
      if (
        batch === 1 &&
        availableByUs !== undefined &&
        (await this.gateIsFull(workflowSlug, flowKey, waiting[0]!.runId))
      )
        break;
      const moved = await this.advanceRuns(waiting);
      changed.push(...moved);
      if (moved.length < waiting.length) break;
    }
    return changed;
  }

  /**
   * A read outside any write: true when the gate's running runs already fill the limit of the head's version (each
   * run is judged by the rules it was submitted under) and no other rule (rate limit, newest-wins) could change it,
   * so trying the head would be a write that changes nothing. Only ever a shortcut: a slot freed after this read is
   * followed by its own nudge, which reads again.
   */
  private async gateIsFull(workflowSlug: string, flowKey: string, headRunId: string): Promise<boolean> {
    const head = await this.store.readRun(headRunId);
    const dag = head?.versionId ? await this.loadDag(workflowSlug, head.versionId) : null;
    const flow = dag?.flow;
    if (!flow || flow.rateLimit || newestWins(flow)) return false;
    const limit = gateLimit(flow);
    if (!Number.isFinite(limit)) return false;
    const running = await this.store.queryGateRuns({ workflowSlug, flowKey, status: "running", limit });
    return running.length >= limit;
  }

  /** The follow-up for a write of `events`: the engine when one of them may move the run on (or a wait or pause), else none. */
  protected followFor(events: readonly Event[]): FollowUp | undefined {
    return events.some((e) => ADVANCING_EVENTS.has(e.type) || WAIT_EVENTS.has(e.type)) ? this.advance : undefined;
  }

  /** Runs `write` (a driver primitive given the follow-up), loading a missing DAG and retrying when the follow-up needed it. */
  protected async withEngine<T>(write: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const result = await write();
        if (this.freedGates.size > 0) await this.releaseFreedGates();
        return result;
      } catch (err) {
        const needed = dagNeeded(err);
        if (!needed) throw err;
        await this.loadDag(needed.workflowSlug, needed.versionId);
      }
    }
  }

  /** A guarded write that advances the run in the same write when its events may move it on. */
  protected writeAdvancing(
    target: WriteTarget,
    guard: WriteGuard,
    events: Event[],
    follow = this.followFor(events),
  ): Promise<GuardVerdict> {
    return this.withEngine(() => this.store.writeEvents(target, guard, events, follow));
  }

  /** Runs a fenced write (advancing the run when its events may move it on) and turns a refusal into StaleAttemptError or RunTerminalError. */
  protected async fenced(
    target: Required<WriteTarget>,
    guard: WriteGuard,
    events: Event[],
    attemptNumber: number,
  ): Promise<void> {
    const verdict = await this.writeAdvancing(target, guard, events);
    if (!verdict.ok) throw this.refusal(target, verdict, attemptNumber);
  }

  /** A submission that starts the run in the same write when it is store-driven and available. */
  protected submitAdvancing(submitted: EventOf<"RunSubmitted">, extra: Event[]): Promise<SubmissionResult> {
    return this.withEngine(() => this.store.writeSubmission(submitted, extra, this.advanceSubmitted));
  }

  /** A batch of guarded writes (see writeEventBatch), each advancing its run. */
  protected writeBatchAdvancing(writes: GuardedWrite[]): Promise<GuardVerdict[]> {
    const withFollow = writes.map((w) => ({ ...w, follow: w.follow ?? this.followFor(w.events) }));
    return this.withEngine(() => this.writeEventBatch(withFollow));
  }

  /**
   * The guarded writes of a batch, each atomic and checked on its own (a refusal skips only that write), in order
   * (a later write sees the earlier ones); verdicts in the same order. The driver's batch fast path (one round trip
   * or one transaction, all or nothing when a follow-up throws), else writeEvents one after the other (each retried
   * alone when its follow-up needs a DAG, so no write is applied twice).
   */
  protected async writeEventBatch(writes: GuardedWrite[]): Promise<GuardVerdict[]> {
    const store = this.store;
    if (store.writeEventBatch) return store.writeEventBatch(writes);
    const out: GuardVerdict[] = [];
    for (const w of writes)
      out.push(await this.withEngine(() => this.store.writeEvents(w.target, w.guard, w.events, w.follow)));
    return out;
  }

  /**
   * Moves store-driven runs on from their current state, each in one atomic write: starts the ones that became
   * available, fails the ones past their timeout, and repairs any run whose follow-up could not run. Returns the ids
   * of the runs it changed.
   */
  async advanceRuns(runs: ReadonlyArray<Pick<RunState, "workflowSlug" | "runId">>): Promise<string[]> {
    if (runs.length === 0) return [];
    // One batch write (one transaction where the driver can), each run's follow-up deciding on its own; the follow-up
    // may be decided more than once (a driver retrying a lost race): only the last decision of a write that landed counts.
    const wrote = runs.map(() => false);
    const writes: GuardedWrite[] = runs.map((r, i) => ({
      target: { workflowSlug: r.workflowSlug, runId: r.runId },
      guard: { kind: "run-open" },
      events: [],
      follow: this.wrapFollow(this.advance, (run, steps, gate) => {
        const events = this.advance(run, steps, gate);
        wrote[i] = events.length > 0;
        return events;
      }),
    }));
    const verdicts = await this.withEngine(() => this.writeEventBatch(writes));
    return runs.filter((_, i) => verdicts[i]?.ok === true && wrote[i]).map((r) => r.runId);
  }
}

function dagNeeded(err: unknown): DagNeeded | null {
  if (err instanceof DagNeeded) return err;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause instanceof DagNeeded ? cause : null;
}
