export { createDashboard, parseAuth, type DashboardOptions, type DashboardAuth } from "./create-dashboard.js";
export { serveDashboard, type ServeDashboardOptions, type DashboardServer } from "./serve-dashboard.js";
export { registerStoreMetrics } from "./metrics/store-metrics.js";
export {
  DashboardError,
  ActionsDisabledError,
  BadRequestOriginError,
  DashboardErrorCode,
  httpErrorOf,
} from "./dashboard-errors.js";
export {
  parseRunFilter,
  filterQuery,
  encodeCursor,
  RUN_STATUSES,
  TIME_RANGES,
  type RunFilter,
  type RunCursor,
  type TimeRange,
} from "./run-filter.js";
export { stepAttempts, type StepAttempt, type AttemptOutcome } from "./html/step-attempts.js";
export { dagLayers } from "./html/dag-svg.js";
