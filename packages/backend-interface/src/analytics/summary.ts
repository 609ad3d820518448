import type { Event } from "../events.js";
import { computeErrorAnalysis, type ErrorAnalysis } from "./error-analysis.js";
import {
  computeSchedulingLatency,
  computeStepDuration,
  computeWorkflowDuration,
  type SchedulingLatency,
  type StepDuration,
  type WorkflowDuration,
} from "./durations.js";
import { computeSuccessRate, computeThroughput, type SuccessRate, type Throughput } from "./outcomes.js";
import type { QueueDepth } from "./queue.js";
import { computeRetryAnalysis, type RetryAnalysis } from "./retries.js";
import { computeWorkerStability, type WorkerStability } from "./workers.js";
import { resolveWindow, type AnalyticsOptions, type ResolvedWindow } from "./window.js";

/** Every windowed query over the same selection, plus the queue snapshot. */
export interface AnalyticsSummary {
  window: ResolvedWindow;
  successRate: SuccessRate;
  throughput: Throughput;
  stepDuration: StepDuration;
  workflowDuration: WorkflowDuration;
  schedulingLatency: SchedulingLatency;
  retryAnalysis: RetryAnalysis;
  errorAnalysis: ErrorAnalysis;
  workerStability: WorkerStability;
  queueDepth: QueueDepth;
}

/** Computes AnalyticsSummary: each part equals its own query with the same options. Pure. */
export function computeAnalyticsSummary(
  events: readonly Event[],
  queueDepth: QueueDepth,
  options: AnalyticsOptions,
  nowUs: number,
): AnalyticsSummary {
  return {
    window: resolveWindow(options, nowUs),
    successRate: computeSuccessRate(events, options, nowUs),
    throughput: computeThroughput(events, options, nowUs),
    stepDuration: computeStepDuration(events, options, nowUs),
    workflowDuration: computeWorkflowDuration(events, options, nowUs),
    schedulingLatency: computeSchedulingLatency(events, options, nowUs),
    retryAnalysis: computeRetryAnalysis(events, options, nowUs),
    errorAnalysis: computeErrorAnalysis(events, options, nowUs),
    workerStability: computeWorkerStability(events, options, nowUs),
    queueDepth,
  };
}
