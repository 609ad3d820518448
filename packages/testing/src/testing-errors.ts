/** Stable codes of the test kit's own errors. */
export const TestingErrorCode = { RunStuck: "RUN_STUCK", EnvClosed: "TEST_ENV_CLOSED" } as const;
/** Union of the test kit's error codes. */
export type TestingErrorCode = (typeof TestingErrorCode)[keyof typeof TestingErrorCode];

/** Base of the test kit's errors: a stable `code` and the run it concerns, when one. */
export class TestingError extends Error {
  constructor(
    readonly code: TestingErrorCode,
    message: string,
    readonly runId?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The run cannot end: nothing is running, ready or due, or a step ran too long in real time. Says what is left. */
export class RunStuckError extends TestingError {
  constructor(runId: string, detail: string) {
    super(TestingErrorCode.RunStuck, `run ${runId} cannot end: ${detail}`, runId);
  }
}

/** The environment was used after close(). */
export class TestEnvClosedError extends TestingError {
  constructor() {
    super(TestingErrorCode.EnvClosed, "the test environment is closed; create a new one with createTestEnv().");
  }
}
