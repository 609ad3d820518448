import type { BackendDriver } from "./backend-driver.js";
import { BackendEngine } from "./backend-engine.js";
import { join } from "node:path";
import type { Event, EventOf } from "./events.js";
import { assertIds } from "./identifiers.js";
import type { StepState, StepRecord } from "./step-state.js";
import type { LogEntry, StepError } from "./schemas.js";
import { InvalidArgumentError } from "./errors.js";
import { serializeValue } from "./serialize.js";

import { type SavedCheckpoint } from "./backend-core.js";
import { cleanError } from "./clean-error.js";

/** The body of the LogEntry event that stores `l`: its emission time kept apart from the storing time. */
export function logEntryBody(
  l: LogEntry,
): Pick<EventOf<"LogEntry">, "stream" | "message" | "attemptNumber" | "emittedAtUs" | "progress"> {
  return {
    stream: l.stream,
    message: l.message,
    attemptNumber: l.attemptNumber,
    emittedAtUs: l.timestampUs,
    ...(l.progress ? { progress: l.progress } : {}),
  };
}

/** The step-data layer of Backend: logs, checkpoints, outputs and step states. */
export abstract class BackendStepData<D extends BackendDriver = BackendDriver> extends BackendEngine<D> {
  /** Saves log lines of a step (any attempt) in one batch. */
  async saveStepLogs(workflowSlug: string, runId: string, stepId: string, logs: LogEntry[]): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    if (logs.length === 0) return;
    const events = logs.map((l) => this.makeEvent("LogEntry", workflowSlug, runId, stepId, logEntryBody(l)));
    await this.store.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, events);
  }

  /** A step's log lines (one attempt, or all), or null when it has none. */
  async loadStepLogs(
    workflowSlug: string,
    runId: string,
    stepId: string,
    attemptNumber?: number,
  ): Promise<LogEntry[] | null> {
    const events = await this.loadEvents(workflowSlug, runId, { category: "step", stepId });
    const logs = events
      .filter(
        (e): e is EventOf<"LogEntry"> =>
          e.type === "LogEntry" && (attemptNumber === undefined || e.attemptNumber === attemptNumber),
      )
      .map((e) => ({
        timestampUs: e.emittedAtUs ?? e.timestampUs,
        stream: e.stream,
        message: e.message,
        attemptNumber: e.attemptNumber,
        ...(e.progress ? { progress: e.progress } : {}),
      }));
    return logs.length ? logs : null;
  }

  /** Saves a checkpoint of the running attempt (fenced). */
  async saveStepCheckpoint(
    workflowSlug: string,
    runId: string,
    stepId: string,
    checkpoint: {
      name: string;
      sequenceNumber: number;
      attemptNumber: number;
      data: unknown;
      label?: string;
      parentCheckpoint?: string;
    },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepCheckpoint", workflowSlug, runId, stepId, {
      name: checkpoint.name,
      sequenceNumber: checkpoint.sequenceNumber,
      attemptNumber: checkpoint.attemptNumber,
      data: serializeValue(checkpoint.data),
      ...(checkpoint.label ? { label: checkpoint.label } : {}),
      ...(checkpoint.parentCheckpoint ? { parentCheckpoint: checkpoint.parentCheckpoint } : {}),
    });
    await this.fenced(
      { workflowSlug, runId, stepId },
      { kind: "attempt", attemptNumber: checkpoint.attemptNumber },
      [ev],
      checkpoint.attemptNumber,
    );
  }

  /** Records that a checkpointed function threw. */
  async saveStepCheckpointFailed(
    workflowSlug: string,
    runId: string,
    stepId: string,
    failure: { name: string; sequenceNumber: number; attemptNumber: number; error: StepError },
  ): Promise<void> {
    assertIds({ workflowSlug, runId, stepId });
    const ev = this.makeEvent("StepCheckpointFailed", workflowSlug, runId, stepId, {
      name: failure.name,
      sequenceNumber: failure.sequenceNumber,
      attemptNumber: failure.attemptNumber,
      error: cleanError(failure.error),
    });
    await this.store.writeEvents({ workflowSlug, runId, stepId }, { kind: "none" }, [ev]);
  }

  /** The latest saved checkpoint per name across all attempts of a step, in sequence order: what a retry replays. */
  async loadStepCheckpoints(workflowSlug: string, runId: string, stepId: string): Promise<SavedCheckpoint[]> {
    return checkpointsOf(await this.loadEvents(workflowSlug, runId, { category: "step", stepId }));
  }

  /** Path where a step attempt's output file goes; always a local path under the backend's directory. */
  getStepOutputPath(workflowSlug: string, runId: string, stepId: string, attemptNumber: number): string {
    assertIds({ workflowSlug, runId, stepId });
    if (!Number.isInteger(attemptNumber) || attemptNumber < 1)
      throw new InvalidArgumentError(`attemptNumber must be a positive integer, got ${attemptNumber}.`);
    return join(this.outputDir, workflowSlug, runId, ...stepId.split("/"), `attempt-${attemptNumber}.output.json`);
  }

  /** Every step's projected state. */
  async loadRun(workflowSlug: string, runId: string): Promise<StepRecord[]> {
    assertIds({ workflowSlug, runId });
    return this.readSteps(workflowSlug, runId);
  }

  /** One step's projected state, or null. */
  async getStepState(workflowSlug: string, runId: string, stepId: string): Promise<StepState | null> {
    assertIds({ workflowSlug, runId, stepId });
    return (await this.readSteps(workflowSlug, runId)).find((s) => s.stepId === stepId) ?? null;
  }

  /** Steps that failed terminally, with their last error. */
  async getFailedSteps(
    workflowSlug: string,
    runId: string,
  ): Promise<Array<{ stepId: string; error: StepError; attemptNumber: number }>> {
    const steps = await this.loadRun(workflowSlug, runId);
    return steps
      .filter((s) => s.status === "failed" && s.error)
      .map((s) => ({ stepId: s.stepId, error: s.error as StepError, attemptNumber: s.attemptNumber }));
  }
}

/** The checkpoints among a step's events: the newest per name, in sequence order. */
export function checkpointsOf(events: readonly Event[]): SavedCheckpoint[] {
  const byName = new Map<string, SavedCheckpoint>();
  for (const e of events) {
    if (e.type !== "StepCheckpoint") continue;
    byName.set(e.name, {
      name: e.name,
      sequenceNumber: e.sequenceNumber,
      attemptNumber: e.attemptNumber,
      data: e.data,
      timestampUs: e.timestampUs,
      ...(e.label ? { label: e.label } : {}),
    });
  }
  return [...byName.values()].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
}
