export {
  defineWorkflow,
  isWorkflowDeclaration,
  type WorkflowDeclaration,
  type WorkflowSpec,
  type AnyWorkflow,
  type WorkflowInput,
  type InputSchema,
  type InferInput,
} from "./define-workflow.js";
export { toFlowControl, type FlowSpec, type Duration } from "./flow-spec.js";
export {
  defineStep,
  isStepDeclaration,
  type StepDeclaration,
  type StepSpec,
  type StepContext,
  type StepLogger,
  type RetryOptions,
  type Progress,
  type ItemsProgress,
  type CallOptions,
  type DependencySpec,
  type DependencyOutputs,
  type AnyStep,
} from "./define-step.js";
export { Skip, isSkip } from "./skip.js";
export {
  StepWaitRequest,
  isWaitRequest,
  PollTimeoutError,
  InvalidWaitError,
  type StepWaits,
  type WaitDuration,
} from "./step-waits.js";
export {
  discoverWorkflows,
  loadWorkflow,
  formatProblems,
  type LoadedWorkflow,
  type LoadedStep,
  type DiscoveryProblem,
  type DiscoveryResult,
} from "./discovery.js";
export { checkDag, type DagNode, type DagProblem } from "./dag.js";
export { registerWorkflows } from "./registration.js";
export { validateInput, type InputValidation } from "./input-validation.js";
export { toRetryPolicy, retryDelayMs, shouldRetry, DEFAULT_RETRY } from "./retry-policy.js";
export { parseBackendUrl, openBackend, loadDriver, isDriverAvailable, type BackendTarget } from "./backend-url.js";
export {
  resolveBackendUrl,
  resolveWorkflowsDir,
  loadConfigFile,
  defaultBackendUrl,
  type CairnConfig,
  type ConfigSource,
} from "./config.js";
export { startWorker, runWorker, type WorkerOptions, type WorkerHandle } from "./worker.js";
export { realTimers, every, type WorkerTimers } from "./worker-timers.js";
export { handleOne, type HandleOneOptions, type HandleOneResult } from "./handle-one.js";
export { maintenanceTick, type MaintenanceTickOptions, type MaintenanceTickResult } from "./maintenance-tick.js";
export { type LifecycleHooks, type RunHookContext, type HookName } from "./lifecycle-hooks.js";
export {
  ServiceUnavailableError,
  type ServiceFactory,
  type ServiceFactories,
  type Services,
} from "./worker-services.js";
export {
  WorkerEvents,
  formatWorkerEvent,
  type WorkerEvent,
  type WorkerEventListener,
  type AbortReason,
} from "./worker-events.js";
export { submit, describeRun, waitForRun, type SubmitOptions, type RunDetails } from "./client.js";
export { workerMetrics, type WorkerMetrics, type WorkerMetricsOptions } from "./worker-metrics.js";
export { serveMetrics, type MetricsServer } from "./metrics-server.js";
export { startTracing, TRACER_NAME, type WorkerTracing } from "./tracing.js";
export { traceContextMetadata, TRACE_KEYS } from "@cairn/client";
export { runAlertPass, type AlertsSent } from "./alerts.js";
export { ALERT_KINDS, alertRuleProblems, type AlertRule } from "./alert-rules.js";
export type { RetentionSpec } from "./retention-spec.js";
export type { TriggerDeclaration } from "./trigger-spec.js";
