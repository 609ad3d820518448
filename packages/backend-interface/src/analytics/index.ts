// PLACEHOLDER: the analytics helper replaces this file with the real types and the reference implementation.
import type { Event } from "../events.js";
import type { RunState } from "../run-state.js";
import type { StepState } from "../step-state.js";

/** Options every analytics query takes. Window bounds inclusive, µs; default the last 24 h. */
export interface AnalyticsOptions {
  startUs?: number;
  endUs?: number;
  workflowSlug?: string;
  stepId?: string;
  runIds?: string[];
}
import type { GroupingStrategy } from "../fingerprint.js";
export type { GroupingStrategy };
export type ErrorAnalysis = Record<string, unknown>;
export type RetryAnalysis = Record<string, unknown>;
export type SchedulingLatency = Record<string, unknown>;
export type StepDuration = Record<string, unknown>;
export type WorkflowDuration = Record<string, unknown>;
export type WorkerStability = Record<string, unknown>;
export type Throughput = Record<string, unknown>;
export type QueueDepth = Record<string, unknown>;
export type QueueDepthByWorkflow = Array<Record<string, unknown>>;
export type SuccessRate = Record<string, unknown>;
export type AnalyticsSummary = Record<string, unknown>;
export type ErrorsListOptions = { timeRange?: { start: number; end: number }; workflowSlug?: string; groupingStrategy?: GroupingStrategy; limit?: number; offset?: number };
export type ErrorsList = { errors: Array<{ fingerprint: string; errorMessage: string; errorName: string; sampleStack: string; count: number; affectedRuns: number; firstSeen: number; lastSeen: number }>; total: number };
export type ErrorDetailOptions = { timeRange?: { start: number; end: number }; limit?: number; offset?: number };
export type ErrorDetail = Record<string, unknown>;
export type WorkerInfo = Record<string, unknown>;
export type ActiveWorkersOptions = { staleThresholdUs?: number; includeInactive?: boolean };
/** A window resolved to concrete bounds. */
export interface ResolvedWindow { startUs: number; endUs: number }
/** Non-terminal runs and their steps: the input of the queue-depth queries. */
export interface LiveState { runs: RunState[]; steps: StepState[] }

const todo = (): never => { throw new Error("analytics not implemented yet"); };
export function resolveWindow(o: AnalyticsOptions | undefined, nowUs: number): ResolvedWindow { return { startUs: o?.startUs ?? nowUs - 86_400_000_000, endUs: o?.endUs ?? nowUs }; }
export const computeErrorAnalysis = (_e: Event[], _o: AnalyticsOptions, _n: number): ErrorAnalysis => todo();
export const computeErrorsList = (_e: Event[], _o: ErrorsListOptions, _n: number): ErrorsList => todo();
export const computeErrorDetail = (_e: Event[], _f: string, _s: GroupingStrategy, _o: ErrorDetailOptions, _n: number): ErrorDetail => todo();
export const computeRetryAnalysis = (_e: Event[], _o: AnalyticsOptions, _n: number): RetryAnalysis => todo();
export const computeSchedulingLatency = (_e: Event[], _o: AnalyticsOptions, _n: number): SchedulingLatency => todo();
export const computeStepDuration = (_e: Event[], _o: AnalyticsOptions, _n: number): StepDuration => todo();
export const computeWorkflowDuration = (_e: Event[], _o: AnalyticsOptions, _n: number): WorkflowDuration => todo();
export const computeWorkerStability = (_e: Event[], _o: AnalyticsOptions, _n: number): WorkerStability => todo();
export const computeThroughput = (_e: Event[], _o: AnalyticsOptions, _n: number): Throughput => todo();
export const computeSuccessRate = (_e: Event[], _o: AnalyticsOptions, _n: number): SuccessRate => todo();
export const computeQueueDepth = (_l: LiveState, _o: Pick<AnalyticsOptions, "workflowSlug">, _n: number): QueueDepth => todo();
export const computeQueueDepthByWorkflow = (_l: LiveState, _n: number): QueueDepthByWorkflow => todo();
export const computeAnalyticsSummary = (_e: Event[], _q: QueueDepth, _o: AnalyticsOptions, _n: number): AnalyticsSummary => todo();
export const computeActiveWorkers = (_e: Event[], _o: ActiveWorkersOptions, _n: number): WorkerInfo[] => todo();
export const computeWorkerById = (_e: Event[], _id: string, _n: number): WorkerInfo | null => todo();
