export * from "./errors.js";
export * from "./identifiers.js";
export { assertTenantId, MAX_TENANT_ID_LENGTH, tenantIdempotencyKey } from "./tenants.js";
export { TenantView } from "./tenant-view.js";
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
export type {
  WriteTarget,
  EventFilter,
  FollowUp,
  SubmissionResult,
  ListRunsOptions,
  ListScheduledOptions,
  StepRef,
  PutVersionResult,
  BackendCapabilities,
  BackendOptions,
} from "./backend-primitives.js";
export { claimWorkflows } from "./backend-driver.js";
export type {
  Gate,
  BackendDriver,
  ClaimRequest,
  ClaimedStep,
  RunContext,
  AnalyticsFastPaths,
  EndedRunsQuery,
  Mark,
  Cursor,
  GateRunsQuery,
} from "./backend-driver.js";
export {
  FlowControlSchema,
  parseFlowControl,
  gateLimit,
  hasGate,
  flowKeyOf,
  countGate,
  gateOrder,
  applyFlowToSubmission,
  FlowKeyError,
  FlowRejectedError,
  MAX_FLOW_KEY_LENGTH,
  type FlowControl,
  type FlowControlInput,
  type GateQuery,
  type GateView,
} from "./flow-control.js";
export { admitRun, gateQueryFor, newestWins, type Admission } from "./run-admission.js";
export type { DriverFeedQuery, DriverFeedEntry } from "./backend-driver.js";
export type { FeedEntry, FeedPage, ReadFeedOptions, SubscribeFeedOptions, FeedSubscription } from "./backend-feed.js";
export { encodeFeedCursor, decodeFeedCursor, feedPosition, parseFeedPosition } from "./feed-cursor.js";
export { ENDED_RUN_STATUSES, type DeleteEndedRunsOptions } from "./backend-retention.js";
export type { RetentionPolicy, RetentionPassResult } from "./backend-retention-policies.js";
export {
  BackendAnalytics,
  validateAnalyticsOptions,
  resolveAnalyticsQuery,
  type AnalyticsWindow,
  type ResolvedAnalyticsQuery,
} from "./backend-analytics.js";
export {
  Backend,
  type ClaimOptions,
  type ClaimScope,
  type PresenceFilter,
  type SubmitOutcome,
  type ClaimedWork,
  type MaintenanceResult,
  type StepStartMetadata,
  type StepCompleteMetadata,
  type StepCompleteItem,
  type StepCompleteOutcome,
  type GuardedWrite,
  type WorkflowDetails,
  type SavedCheckpoint,
} from "./backend.js";
export { prepareSubmission, type RunSubmissionInput } from "./submission.js";
export { planRerun, transitiveDependents, type RerunOptions } from "./rerun.js";
export {
  computeErrorFingerprints,
  fingerprintFor,
  normalizeErrorMessage,
  parseStackFrames,
  portableLocations,
  stripLineNumbers,
  MAX_FRAMES,
  GROUPING_STRATEGIES,
  type StackFrame,
} from "./fingerprint.js";
export * from "./analytics/index.js";
export {
  CALL_OUTPUT_SUMMARY_CHARS,
  CALL_TOOL_MAX,
  CALL_OPERATION_MAX,
  validateCallSpec,
  validateCallUsage,
  validateCallInput,
  summarizeOutput,
  callRecordOf,
  type CallSpec,
  type CallInput,
  type CallRecord,
  type CallUsage,
} from "./calls.js";
export { BackendTracking } from "./backend-tracking.js";
export {
  CHILD_STEP_NAME_MAX,
  CHILD_STEP_DEPTH_MAX,
  validateChildStepName,
  validateChildPath,
  validateChildStepInput,
  childPath,
  childStepOf,
  finishedChildren,
  type ChildStepInput,
  type ChildStepRecord,
  type SavedChildStep,
} from "./child-steps.js";
export {
  validateLinkSpec,
  validateEntityQuery,
  parseEntityRef,
  stepLinkOf,
  sortLinkEvents,
  type LinkSpec,
  type LinkInput,
  type StepLink,
  type EntityQuery,
} from "./links.js";
export { COUNTER_NAME, MAX_COUNTERS_PER_INCREMENT, validateIncrement } from "./counters.js";
export { toJsonSchema, zodGeneration, type ZodGeneration } from "./json-schema.js";
export { InputSchemaValidator } from "./input-schema.js";
export { advanceRun, ADVANCING_EVENTS, type MakeRunEvent } from "./run-advance.js";
export { wakeWaitingSteps, holdsFor, signalMatches, signalFor, WAIT_EVENTS } from "./run-waits.js";
export { runWaitingOn, type WaitingStep } from "./backend-waits.js";
export { HELD_AVAILABLE_AT_US } from "./project-step.js";
export { runDagOf, type RunDag } from "./run-dag.js";
export {
  WorkerPresenceSchema,
  validatePresenceInput,
  mergeWorkerPresence,
  PRESENCE_WINDOW_US,
  type WorkerPresence,
  type WorkerPresenceInput,
  type LiveWorkerInfo,
} from "./worker-presence.js";
export {
  foldRun,
  foldWithFollowUp,
  foldWithFollowUpAsync,
  withFollowUp,
  gateQueryAfter,
  type FoldedWrite,
} from "./run-fold.js";
export { eventIdempotencyKey, type EmitOptions, type EmitResult, type TriggeredRun } from "./backend-triggers.js";
export {
  scheduleCursorKey,
  scheduleIdempotencyKey,
  type ScheduleInfo,
  type ScheduleTickResult,
} from "./backend-schedules.js";
export {
  cronProblem,
  dueTicks,
  eventNameProblem,
  isValidEventName,
  latestTick,
  nextTick,
  scheduleProblems,
  timezoneProblem,
  MAX_TICKS_PER_PASS,
  type ScheduleSpec,
} from "./schedule-spec.js";
export { jsonValueProblem } from "./json-value.js";
export { type TrackedRunStart } from "./tracked-runs.js";
export { progressReport, type ProgressInput, type ItemsProgressInput } from "./progress-report.js";
