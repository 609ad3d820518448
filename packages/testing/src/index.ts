export {
  createTestEnv,
  type TestEnv,
  type TestEnvOptions,
  type TestSubmitOptions,
  type WorkflowRef,
} from "./test-env.js";
export { TestClock } from "./test-clock.js";
export { toTestRun, type TestRun, type TestStep, type TestAttempt } from "./test-run.js";
export { type StepFault } from "./step-faults.js";
export { durationMs, type Duration } from "./duration.js";
export { TestingError, RunStuckError, TestEnvClosedError, TestingErrorCode } from "./testing-errors.js";
