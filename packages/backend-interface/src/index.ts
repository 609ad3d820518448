export * from "./errors.js";
export * from "./identifiers.js";
export * from "./clock.js";
export { newEventId, newRunId } from "./ids.js";
export * from "./schemas.js";
export * from "./events.js";
export { parseEvent, parseEventFor, zodIssues } from "./validate-event.js";
export { serializeValue, deserializeValue } from "./serialize.js";
export { canonicalJson, sameJsonText } from "./canonical-json.js";
export { sameVersionContent } from "./version-content.js";
export { StepStateSchema, StateChangeSchema, type StepState, type StepRecord, type StateChange } from "./step-state.js";
export { RunStateSchema, type RunState } from "./run-state.js";
export { reduceStepState, projectStepState, projectStepStates } from "./project-step.js";
export { reduceRunState, projectRunState } from "./project-run.js";
export { checkGuard, type WriteGuard, type GuardVerdict, type GuardRefusal } from "./guards.js";
export type { WriteTarget, EventFilter, FollowUp, SubmissionResult, ListRunsOptions, ListScheduledOptions, StepRef, PutVersionResult, BackendCapabilities, BackendOptions } from "./backend-primitives.js";
export type { BackendDriver, ClaimRequest, ClaimedStep, AnalyticsFastPaths, EndedRunsQuery, Mark, GateRunsQuery } from "./backend-driver.js";
export {
  FlowControlSchema, parseFlowControl, gateLimit, hasGate, flowKeyOf, countGate, gateOrder, applyFlowToSubmission, FlowKeyError, FlowRejectedError,
  MAX_FLOW_KEY_LENGTH, type FlowControl, type FlowControlInput, type GateQuery, type GateView,
} from "./flow-control.js";
export { admitRun, gateQueryFor, newestWins, type Admission } from "./run-admission.js";
export { ENDED_RUN_STATUSES, type DeleteEndedRunsOptions } from "./backend-retention.js";
export type { RetentionPolicy, RetentionPassResult } from "./backend-retention-policies.js";
export { BackendAnalytics, validateAnalyticsOptions, resolveAnalyticsQuery, type AnalyticsWindow, type ResolvedAnalyticsQuery } from "./backend-analytics.js";
export { Backend, type ClaimOptions, type ClaimScope, type PresenceFilter, type SubmitOutcome, type ClaimedWork, type MaintenanceResult, type StepStartMetadata, type StepCompleteMetadata, type StepCompleteItem, type StepCompleteOutcome, type GuardedWrite, type WorkflowDetails, type SavedCheckpoint } from "./backend.js";
export { prepareSubmission, type RunSubmissionInput } from "./submission.js";
export { planRerun, transitiveDependents, type RerunOptions } from "./rerun.js";
export { computeErrorFingerprints, fingerprintFor, normalizeErrorMessage, parseStackFrames, portableLocations, stripLineNumbers, MAX_FRAMES, GROUPING_STRATEGIES, type StackFrame } from "./fingerprint.js";
export * from "./analytics/index.js";
export { toJsonSchema, zodGeneration, type ZodGeneration } from "./json-schema.js";
export { InputSchemaValidator } from "./input-schema.js";
export { advanceRun, ADVANCING_EVENTS, type MakeRunEvent } from "./run-advance.js";
export { runDagOf, type RunDag } from "./run-dag.js";
export { WorkerPresenceSchema, validatePresenceInput, mergeWorkerPresence, PRESENCE_WINDOW_US, type WorkerPresence, type WorkerPresenceInput, type LiveWorkerInfo } from "./worker-presence.js";
export { foldRun, withFollowUp, withFollowUpAsync, gateQueryAfter } from "./run-fold.js";
