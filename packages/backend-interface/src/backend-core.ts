import { BackendAnalytics } from "./backend-analytics.js";
import type { BackendDriver } from "./backend-driver.js";
import type { Event, EventBody, EventOf, EventType, StepEvent, WorkflowEvent } from "./events.js";
import type { GuardVerdict, WriteGuard } from "./guards.js";
import { projectStepStates } from "./project-step.js";
import { assertIds } from "./identifiers.js";
import { newEventId } from "./ids.js";
import { parseEvent, parseEventFor } from "./validate-event.js";
import type { RunState } from "./run-state.js";
import type { StepState } from "./step-state.js";
import type { LogEntry, StepDefinition, WorkflowMetadata, WorkflowRegistration, WorkflowVersion } from "./schemas.js";
import { CairnError, InvalidArgumentError, RunTerminalError, StaleAttemptError } from "./errors.js";
import type {
  BackendCapabilities,
  BackendOptions,
  EventFilter,
  FollowUp,
  ListRunsOptions,
  ListScheduledOptions,
  PutVersionResult,
  StepRef,
  SubmissionResult,
  WriteTarget,
} from "./backend-primitives.js";

/** Metadata for when a step starts. `timestamp` is accepted for compatibility; event times come from the backend's clock. */
export type StepStartMetadata = {
  dependencies: string[];
  timestamp: number;
  attemptNumber: number;
  slotIndex?: number;
  workerConcurrency?: number;
};
/** Metadata for when a step completes. `duration` is µs. */
export type StepCompleteMetadata = {
  timestamp: number;
  duration: number;
  logs?: LogEntry[];
  attemptNumber: number;
  output: unknown;
  resourceUsage?: EventOf<"StepCompleted">["resourceUsage"];
};
/** One completion of a batch (saveStepCompletes): the arguments of saveStepComplete. */
export type StepCompleteItem = {
  workflowSlug: string;
  runId: string;
  stepId: string;
  output: unknown;
  metadata: StepCompleteMetadata;
  exportOutput?: boolean;
};
/** The outcome of one item of a batch: written, or refused with the error saveStepComplete would have thrown. */
export type StepCompleteOutcome = { ok: true } | { ok: false; error: CairnError };
export type { GuardedWrite } from "./backend-driver.js";
/** @deprecated Use WorkflowRegistration. */
export type WorkflowDetails = WorkflowMetadata & { steps: StepDefinition[]; stepCount: number };
/** A saved checkpoint, as a retry replays it. */
export type SavedCheckpoint = {
  name: string;
  sequenceNumber: number;
  attemptNumber: number;
  data: string;
  label?: string;
  timestampUs: number;
};

/** The event layer of Backend: event building, append/load, fencing refusals, and the reads with a reference path. */
export abstract class BackendCore<D extends BackendDriver = BackendDriver> extends BackendAnalytics<D> {
  /** Runs and all their steps, by run id (absent ids are left out): the driver's fast path, else readRun and readSteps per run. */
  protected async readRunContexts(
    runIds: readonly string[],
  ): Promise<Map<string, { run: RunState; steps: StepState[] }>> {
    const store = this.store;
    if (store.readRunContexts) return store.readRunContexts(runIds);
    const out = new Map<string, { run: RunState; steps: StepState[] }>();
    await Promise.all(
      runIds.map(async (id) => {
        const run = await store.readRun(id);
        if (run) out.set(id, { run, steps: await this.readSteps(run.workflowSlug, id) });
      }),
    );
    return out;
  }

  /** All step states of a run: the driver's fast path, else the projection of the run's step events. */
  protected async readSteps(workflowSlug: string, runId: string): Promise<StepState[]> {
    const store = this.store;
    if (store.readSteps) return store.readSteps(workflowSlug, runId);
    const events = (await store.readEvents(workflowSlug, runId, { category: "step" })) as StepEvent[];
    return [...projectStepStates(events).values()];
  }

  /** Builds and validates an event of `type` for a run (and step) with the backend's clock. */
  protected makeEvent<T extends EventType>(
    type: T,
    workflowSlug: string,
    runId: string,
    stepId: string | undefined,
    body: EventBody<T>,
  ): EventOf<T> {
    return parseEvent(this.buildEvent(type, workflowSlug, runId, stepId, body)) as EventOf<T>;
  }

  /**
   * An event stamped like makeEvent's, not validated again: only for events the engine derives inside a write from
   * state that was validated on its way in (the DAG of a registered version, the run's and steps' projected states).
   * The conformance suite parses every event of its transition runs (support/dags.ts), so a malformed one fails it.
   */
  protected buildEvent<T extends EventType>(
    type: T,
    workflowSlug: string,
    runId: string,
    stepId: string | undefined,
    body: EventBody<T>,
  ): EventOf<T> {
    const timestampUs = this.clock.nowUs();
    // The envelope first, then the body's fields (the envelope wins): one object of one shape, not two spreads, which
    // cost ~15 % of a batch submit's CPU.
    const event: Record<string, unknown> = {
      eventId: newEventId(timestampUs),
      timestampUs,
      workflowSlug,
      runId,
      category: stepId === undefined ? "workflow" : "step",
      type,
    };
    if (stepId !== undefined) event.stepId = stepId;
    for (const key of Object.keys(body))
      if (!Object.hasOwn(event, key)) event[key] = (body as Record<string, unknown>)[key];
    return event as unknown as EventOf<T>;
  }

  // ─── Events ────────────────────────────────────────────────────────────────────────────────────
  /** Appends one validated event to its run (unconditionally). Invalid events are rejected and nothing is written. */
  async appendEvent(workflowSlug: string, runId: string, event: Event): Promise<void> {
    assertIds({ workflowSlug, runId });
    const ev = parseEventFor(workflowSlug, runId, event);
    await this.store.writeEvents({ workflowSlug, runId }, { kind: "none" }, [ev]);
  }

  /** Appends many events; all are validated before any is written. Events of one run are written as one batch. */
  async batchAppendEvents(items: Array<{ workflowSlug: string; runId: string; event: Event }>): Promise<void> {
    const byRun = new Map<string, { workflowSlug: string; runId: string; events: Event[] }>();
    for (const item of items) {
      assertIds({ workflowSlug: item.workflowSlug, runId: item.runId });
      const ev = parseEventFor(item.workflowSlug, item.runId, item.event);
      const key = `${item.workflowSlug}\0${item.runId}`;
      const group = byRun.get(key) ?? { workflowSlug: item.workflowSlug, runId: item.runId, events: [] };
      group.events.push(ev);
      byRun.set(key, group);
    }
    for (const g of byRun.values())
      await this.store.writeEvents({ workflowSlug: g.workflowSlug, runId: g.runId }, { kind: "none" }, g.events);
  }

  /** Loads a run's events in order, optionally only one category and/or one step. */
  loadEvents(workflowSlug: string, runId: string, options: { category: "step"; stepId?: string }): Promise<StepEvent[]>;
  loadEvents(workflowSlug: string, runId: string, options: { category: "workflow" }): Promise<WorkflowEvent[]>;
  loadEvents(
    workflowSlug: string,
    runId: string,
    options?: { category?: "workflow" | "step"; stepId?: string },
  ): Promise<Event[]>;
  async loadEvents(workflowSlug: string, runId: string, options: EventFilter = {}): Promise<Event[]> {
    assertIds({ workflowSlug, runId, stepId: options.stepId });
    if (options.category !== undefined && options.category !== "step" && options.category !== "workflow") {
      throw new InvalidArgumentError(
        `Unknown event category ${JSON.stringify(options.category)}; use "step" or "workflow".`,
      );
    }
    return this.store.readEvents(workflowSlug, runId, options);
  }

  /** One read of a run's step events grouped by step, without heartbeats, logs and retry notices. */
  async loadStepEventsForProjection(workflowSlug: string, runId: string): Promise<Map<string, StepEvent[]>> {
    const events = await this.loadEvents(workflowSlug, runId, { category: "step" });
    const out = new Map<string, StepEvent[]>();
    for (const ev of events) {
      if (
        ev.type === "StepHeartbeat" ||
        ev.type === "LogEntry" ||
        ev.type === "StepRetrying" ||
        ev.type === "StepCall" ||
        ev.type === "StepLinked" ||
        ev.type === "StepChild"
      )
        continue;
      const list = out.get(ev.stepId) ?? [];
      list.push(ev);
      out.set(ev.stepId, list);
    }
    return out;
  }

  /** Validates the ids; storage is created lazily by the first event, so nothing else is needed. */
  async initializeRun(workflowSlug: string, runId: string): Promise<void> {
    assertIds({ workflowSlug, runId });
  }

  /** The error of a refused fenced write: RunTerminalError when the run ended, else StaleAttemptError. */
  protected refusal(
    target: Required<WriteTarget>,
    verdict: GuardVerdict & { ok: false },
    attemptNumber: number,
  ): CairnError {
    if (verdict.reason === "run-terminal")
      return new RunTerminalError({ ...target, status: verdict.runStatus ?? "ended" });
    return new StaleAttemptError({
      ...target,
      attemptNumber,
      currentAttempt: verdict.stepAttempt,
      currentStatus: verdict.stepStatus,
    });
  }
}
