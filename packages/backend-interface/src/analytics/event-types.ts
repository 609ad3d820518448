import type { EventType } from "../events.js";

const RUN_ENDS = ["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled"] as const;

/**
 * The event types each reference query reads (every other type is ignored by it), so a loader may read only these.
 * Kept beside the reference functions: a query that starts reading a new type must list it here.
 */
export const ANALYTICS_EVENT_TYPES = {
  errorAnalysis: ["StepFailed"],
  errorsList: ["StepFailed"],
  errorDetail: ["StepFailed"],
  retryAnalysis: ["StepScheduled", "StepCompleted", "StepFailed"],
  schedulingLatency: ["StepScheduled", "StepStarted"],
  stepDuration: ["StepCompleted", "StepFailed"],
  workflowDuration: ["WorkflowCompleted", "WorkflowFailed"],
  workerStability: ["StepStarted", "StepHeartbeat", "StepReclaimed", "StepCompleted", "StepFailed"],
  throughput: ["WorkflowCompleted", "StepCompleted"],
  successRate: [...RUN_ENDS, "StepCompleted", "StepFailed", "StepSkipped"],
  activeWorkers: [
    "StepStarted",
    "StepHeartbeat",
    "StepCompleted",
    "StepFailed",
    "StepSkipped",
    "StepReclaimed",
    ...RUN_ENDS,
  ],
  callAnalytics: ["StepCall"],
  usageAnalytics: ["StepCall"],
  analyticsSummary: [
    "StepScheduled",
    "StepStarted",
    "StepHeartbeat",
    "StepCompleted",
    "StepFailed",
    "StepSkipped",
    "StepReclaimed",
    ...RUN_ENDS,
  ],
} as const satisfies Record<string, readonly EventType[]>;
