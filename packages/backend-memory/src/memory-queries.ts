import {
  compareStrings,
  isTerminalRunStatus,
  type Event,
  type EventFilter,
  type ListRunsOptions,
  type ListScheduledOptions,
  type LiveState,
  type RunState,
  type StepRef,
  type StepState,
  type AnalyticsWindow,
  type EndedRunsQuery,
  type GateQuery,
  type GateRunsQuery,
  type GateView,
  countGate,
  gateOrder,
  type Gate,
} from "@cairn/backend-interface";
import type { MemoryRun, MemoryStore } from "./memory-store.js";

type RunRef = Pick<RunState, "workflowSlug" | "runId">;

/**
 * The memory driver's reads: scans of the store in the orders the driver contract states. Every state handed out
 * is a copy, so a caller cannot change the store by changing what it read.
 */
export class MemoryQueries {
  constructor(private readonly store: MemoryStore) {}

  events(workflowSlug: string, runId: string, filter: EventFilter): Event[] {
    const events = this.store.record(workflowSlug, runId, false)?.events ?? [];
    return structuredClone(
      events.filter(
        (e) =>
          (filter.category === undefined || e.category === filter.category) &&
          (filter.stepId === undefined || (e.category === "step" && e.stepId === filter.stepId)),
      ),
    );
  }

  run(runId: string): RunState | null {
    const run = this.store.byRunId(runId)?.run;
    return run ? structuredClone(run) : null;
  }

  steps(workflowSlug: string, runId: string): StepState[] {
    return structuredClone([...(this.store.record(workflowSlug, runId, false)?.steps.values() ?? [])]);
  }

  /** Newest first (createdAt descending, runId descending on ties); statuses OR, tags AND. */
  runs(o: ListRunsOptions): RunState[] {
    const out: RunState[] = [];
    for (const { run } of this.store.runs.values()) {
      if (!run || (o.workflowSlug !== undefined && run.workflowSlug !== o.workflowSlug)) continue;
      if (o.tenantId !== undefined && run.tenantId !== o.tenantId) continue;
      if (o.status?.length && !o.status.includes(run.status)) continue;
      if (o.tags?.length && !o.tags.every((t) => run.tags.includes(t))) continue;
      if (
        o.before &&
        !(
          run.createdAtUs < o.before.createdAtUs ||
          (run.createdAtUs === o.before.createdAtUs && run.runId < o.before.runId)
        )
      )
        continue;
      if (o.createdAfterUs !== undefined && run.createdAtUs < o.createdAfterUs) continue;
      out.push(run);
    }
    out.sort((a, b) => b.createdAtUs - a.createdAtUs || compareStrings(b.runId, a.runId));
    return structuredClone(o.limit === undefined ? out : out.slice(0, o.limit));
  }

  /** Scheduled steps of live runs (of the given workflows) available by `availableBefore`: priority desc, availableAt asc, runId, stepId. */
  scheduled(
    o: ListScheduledOptions & { availableBefore: number; workflowSlugs?: readonly string[] | undefined },
  ): StepRef[] {
    const found: StepState[] = [];
    const slugs = o.workflowSlugs ? new Set(o.workflowSlugs) : undefined;
    for (const rec of this.live(o.workflowSlug)) {
      if (slugs && !slugs.has(rec.workflowSlug)) continue;
      for (const s of rec.steps.values())
        if (s.status === "scheduled" && (s.availableAtUs ?? 0) <= o.availableBefore) found.push(s);
    }
    found.sort(
      (x, y) =>
        y.priority - x.priority ||
        (x.availableAtUs ?? 0) - (y.availableAtUs ?? 0) ||
        compareStrings(x.runId, y.runId) ||
        compareStrings(x.stepId, y.stepId),
    );
    return (o.limit === undefined ? found : found.slice(0, o.limit)).map((s) => ({
      workflowSlug: s.workflowSlug,
      runId: s.runId,
      stepId: s.stepId,
    }));
  }

  /** Running steps of live runs last seen (heartbeat, else start) before `beforeUs`. */
  stale(beforeUs: number): StepState[] {
    const out: StepState[] = [];
    for (const rec of this.live()) {
      for (const s of rec.steps.values())
        if (s.status === "running" && (s.lastHeartbeatUs ?? s.startTimeUs ?? 0) < beforeUs) out.push(s);
    }
    return structuredClone(out.sort((x, y) => compareStrings(x.runId, y.runId) || compareStrings(x.stepId, y.stepId)));
  }

  /** Pending store-driven runs available by `nowUs`, longest due first. */
  dueRuns(nowUs: number, limit: number): RunRef[] {
    const due = this.liveRuns().filter(
      (r) => r.status === "pending" && r.versionId !== undefined && r.flowKey === undefined && r.availableAtUs <= nowUs,
    );
    due.sort((a, b) => a.availableAtUs - b.availableAtUs || compareStrings(a.runId, b.runId));
    return due.slice(0, limit).map(ref);
  }

  /** Runs of one flow-control gate in a status (pending ones in start order). */
  gateRuns(q: GateRunsQuery): RunRef[] {
    const hits = this.liveRuns().filter(
      (r) =>
        r.workflowSlug === q.workflowSlug &&
        r.flowKey === q.flowKey &&
        r.status === q.status &&
        (q.availableByUs === undefined || r.availableAtUs <= q.availableByUs),
    );
    hits.sort(gateOrder);
    return hits.slice(0, q.limit).map(ref);
  }

  /** Gates with a pending run available by `nowUs`. */
  waitingGates(nowUs: number, limit: number, among?: readonly Gate[]): Gate[] {
    const gates = new Map<string, Gate>();
    const wanted = among ? new Set(among.map((g) => `${g.workflowSlug}\0${g.flowKey}`)) : undefined;
    for (const r of this.liveRuns()) {
      if (r.status !== "pending" || r.flowKey === undefined || r.availableAtUs > nowUs) continue;
      if (wanted && !wanted.has(`${r.workflowSlug}\0${r.flowKey}`)) continue;
      gates.set(`${r.workflowSlug}\0${r.flowKey}`, { workflowSlug: r.workflowSlug, flowKey: r.flowKey });
      if (gates.size >= limit) break;
    }
    return [...gates.values()];
  }

  /** The count of a gate (every run, ended ones included for rate limits). */
  gate(q: GateQuery): GateView {
    return countGate(
      q,
      [...this.store.runs.values()].flatMap((r) => (r.run ? [r.run] : [])),
    );
  }

  /** Running runs past their timeout at `nowUs`, longest overdue first. */
  overdueRuns(nowUs: number, limit: number): RunRef[] {
    const deadline = (r: RunState) => (r.startedAtUs ?? 0) + (r.timeoutUs ?? 0);
    const over = this.liveRuns().filter(
      (r) => r.status === "running" && r.timeoutUs !== undefined && r.startedAtUs !== undefined && deadline(r) < nowUs,
    );
    over.sort((a, b) => deadline(a) - deadline(b) || compareStrings(a.runId, b.runId));
    return over.slice(0, limit).map(ref);
  }

  /** Ended runs of the given statuses that ended before `endedBeforeUs`, oldest ended first. */
  endedRuns(q: EndedRunsQuery): RunRef[] {
    const ended = [...this.store.runs.values()].flatMap((r) => {
      const run = r.run;
      const hit =
        run &&
        (q.statuses as readonly string[]).includes(run.status) &&
        run.endedAtUs !== undefined &&
        run.endedAtUs < q.endedBeforeUs;
      return hit && (q.workflowSlug === undefined || run.workflowSlug === q.workflowSlug) ? [run] : [];
    });
    ended.sort((a, b) => (a.endedAtUs ?? 0) - (b.endedAtUs ?? 0) || compareStrings(a.runId, b.runId));
    return ended.slice(0, q.limit).map(ref);
  }

  activeWorkflows(): string[] {
    return [...new Set(this.liveRuns().map((r) => r.workflowSlug))].sort(compareStrings);
  }

  /** Every run id of a workflow, oldest first. */
  runIdsOf(workflowSlug: string): string[] {
    const runs = [...this.store.runs.values()].flatMap((r) =>
      r.run && r.workflowSlug === workflowSlug ? [r.run] : [],
    );
    return runs.sort((a, b) => a.createdAtUs - b.createdAtUs || compareStrings(a.runId, b.runId)).map((r) => r.runId);
  }

  /** Events in the window (of `types` when given), each run's in append order. */
  windowEvents(w: AnalyticsWindow): Event[] {
    const types = w.types ? new Set<string>(w.types) : null;
    const runIds = w.runIds ? new Set(w.runIds) : null;
    const out: Event[] = [];
    for (const rec of this.store.runs.values()) {
      if ((w.workflowSlug !== undefined && rec.workflowSlug !== w.workflowSlug) || (runIds && !runIds.has(rec.runId)))
        continue;
      for (const e of rec.events)
        if (e.timestampUs >= w.startUs && e.timestampUs <= w.endUs && (!types || types.has(e.type))) out.push(e);
    }
    return structuredClone(out);
  }

  /** Non-terminal runs (of one workflow) and all their steps. */
  liveState(workflowSlug: string | undefined): LiveState {
    const recs = this.live(workflowSlug);
    return structuredClone({
      runs: recs.map((r) => r.run as RunState),
      steps: recs.flatMap((r) => [...r.steps.values()]),
    });
  }

  private live(workflowSlug?: string): MemoryRun[] {
    return [...this.store.runs.values()].filter(
      (r) =>
        r.run && !isTerminalRunStatus(r.run.status) && (workflowSlug === undefined || r.workflowSlug === workflowSlug),
    );
  }

  private liveRuns(): RunState[] {
    return this.live().map((r) => r.run as RunState);
  }
}

const ref = (r: RunState): RunRef => ({ workflowSlug: r.workflowSlug, runId: r.runId });
