export {
  createClient,
  decodeRun,
  type CairnClient,
  type ClientOptions,
  type ClientRun,
  type RunSubmitOptions,
  type SubmitItem,
  type SubmitArgs,
  type SubmittedRun,
  type WaitOptions,
  type ListOptions,
} from "./client.js";
export { resolveWorkflowSlug, type WorkflowRef, type SubmitInput } from "./workflow-ref.js";
export { submit, submitMany, describeRun, waitForRun, type SubmitOptions, type RunDetails } from "./run-operations.js";
export { traceContextMetadata, contextFromMetadata, loadOtel, TRACE_KEYS, type OtelApi } from "./trace-context.js";
export { parseBackendUrl, openBackend, loadDriver, isDriverAvailable, type BackendTarget } from "./backend-url.js";
export type {
  FeedEntry,
  FeedPage,
  ReadFeedOptions,
  SubscribeFeedOptions,
  FeedSubscription,
} from "@cairn/backend-interface";
export {
  createTracker,
  type Tracker,
  type TrackerOptions,
  type TrackedRun,
  type TrackedStep,
  type TrackedRunOptions,
  type TrackedOutcome,
  type TrackedCallOptions,
} from "./tracker.js";
