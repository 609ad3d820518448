import { isTerminalStepStatus, type RunState, type StepError, type StepState } from "@cairn/backend-interface";
import type { LoadedWorkflow } from "./discovery.js";

/**
 * What this worker knows about one step. A terminal status (completed, skipped, failed) never changes once written, so
 * it is a fact; any other status is only a hint (another worker may have moved the step on since).
 */
export interface KnownStep {
  status: StepState["status"];
  /** Serialized output (as stored), when completed and known. */
  output?: string;
  exportOutput?: boolean;
  error?: StepError;
  failureReason?: StepState["failureReason"];
}

/** What this worker knows about one run: its state when last read or started here, and its steps. */
export interface KnownRun {
  /** Status and counters may be stale; input, priority, timeout, start time and attempt do not change while it runs. */
  run: RunState;
  steps: Map<string, KnownStep>;
  /** This worker is completing the run (so two of its slots finishing together do not both complete it). */
  ending?: boolean;
}

/** True when `s` is known to have ended (completed, skipped or failed): a fact, not a hint. */
export function isKnownTerminal(s: KnownStep | undefined): boolean {
  return s !== undefined && isTerminalStepStatus(s.status);
}

/**
 * Per-run knowledge of one worker, so that advancing a run after its own writes needs no re-read: the steps' states it
 * read or wrote itself. Bounded (least recently used runs are dropped); a run is dropped when it ends. Merging never
 * turns a known terminal state back into a non-terminal one (a read that started before our own write may return it).
 */
export class RunCache {
  private readonly runs = new Map<string, KnownRun>();
  /** Steps executing in this worker's slots right now (claimed, result not yet recorded), by run. */
  private readonly executing = new Map<string, Set<string>>();
  constructor(private readonly capacity = 2000) {}

  startExecuting(runId: string, stepId: string): void {
    let s = this.executing.get(runId);
    if (!s) this.executing.set(runId, (s = new Set()));
    s.add(stepId);
  }

  stopExecuting(runId: string, stepId: string): void {
    const s = this.executing.get(runId);
    if (s?.delete(stepId) && s.size === 0) this.executing.delete(runId);
  }

  /** True when a step of the run is executing in this worker (so it has surely not ended, and will be recorded later). */
  isExecuting(runId: string): boolean {
    return this.executing.has(runId);
  }

  get(runId: string): KnownRun | undefined {
    const k = this.runs.get(runId);
    if (k) { this.runs.delete(runId); this.runs.set(runId, k); }
    return k;
  }

  /** Records a run state (and, when given, its steps as read from storage). */
  put(run: RunState, steps?: readonly StepState[]): KnownRun {
    let k = this.get(run.runId);
    if (!k) {
      k = { run, steps: new Map() };
      this.runs.set(run.runId, k);
      while (this.runs.size > this.capacity) this.runs.delete(this.runs.keys().next().value as string);
    } else {
      k.run = run;
    }
    if (steps) for (const s of steps) this.setStep(k, s.stepId, fromState(s));
    return k;
  }

  /** Sets a step's state, unless that would replace a known terminal state by a non-terminal one. */
  setStep(k: KnownRun, stepId: string, s: KnownStep): void {
    const cur = k.steps.get(stepId);
    if (isKnownTerminal(cur) && !isKnownTerminal(s)) return;
    k.steps.set(stepId, s);
  }

  /** Forgets a step's state (it is no longer what we thought, e.g. after a refused write). Terminal facts stay. */
  unsetStep(k: KnownRun, stepId: string): void {
    if (!isKnownTerminal(k.steps.get(stepId))) k.steps.delete(stepId);
  }

  forget(runId: string): void {
    this.runs.delete(runId);
  }

  size(): number {
    return this.runs.size;
  }
}

function fromState(s: StepState): KnownStep {
  return {
    status: s.status,
    ...(s.output === undefined ? {} : { output: s.output }),
    ...(s.exportOutput === undefined ? {} : { exportOutput: s.exportOutput }),
    ...(s.error ? { error: s.error } : {}),
    ...(s.failureReason ? { failureReason: s.failureReason } : {}),
  };
}

const dependentsCache = new WeakMap<LoadedWorkflow, Map<string, string[]>>();

/** Direct dependents of each step of a workflow (computed once per loaded workflow). */
export function dependentsOf(wf: LoadedWorkflow, stepId: string): readonly string[] {
  let m = dependentsCache.get(wf);
  if (!m) {
    m = new Map(wf.steps.map((s) => [s.id, [] as string[]]));
    for (const s of wf.steps) for (const d of s.definition.dependencies) m.get(d)?.push(s.id);
    dependentsCache.set(wf, m);
  }
  return m.get(stepId) ?? [];
}
