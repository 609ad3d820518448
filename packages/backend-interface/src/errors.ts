import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Stable error codes callers branch on. */
export const ErrorCode = {
  InvalidIdentifier: "INVALID_IDENTIFIER",
  InvalidEvent: "INVALID_EVENT",
  InvalidArgument: "INVALID_ARGUMENT",
  RunNotFound: "RUN_NOT_FOUND",
  StepNotFound: "STEP_NOT_FOUND",
  WorkflowNotFound: "WORKFLOW_NOT_FOUND",
  InvalidInput: "INVALID_INPUT",
  StaleAttempt: "STALE_ATTEMPT",
  StepNotClaimable: "STEP_NOT_CLAIMABLE",
  RunTerminal: "RUN_TERMINAL",
  IdempotencyConflict: "IDEMPOTENCY_CONFLICT",
  VersionConflict: "VERSION_CONFLICT",
  CorruptRecord: "CORRUPT_RECORD",
  SchemaTooNew: "SCHEMA_TOO_NEW",
  NotACairnStore: "NOT_A_CAIRN_STORE",
  BackendUnavailable: "BACKEND_UNAVAILABLE",
  RunNotRetryable: "RUN_NOT_RETRYABLE",
  BackendClosed: "BACKEND_CLOSED",
  BackendNotInitialized: "BACKEND_NOT_INITIALIZED",
  Config: "CONFIG_ERROR",
  DatabaseNotFound: "DATABASE_NOT_FOUND",
  StoreNotWritable: "STORE_NOT_WRITABLE",
  FlowRejected: "FLOW_REJECTED",
  InvalidFeedCursor: "INVALID_FEED_CURSOR",
} as const;
/** Union of every stable error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Context fields an error may carry. */
export interface ErrorContext {
  workflowSlug?: string;
  runId?: string;
  stepId?: string;
  attemptNumber?: number;
  path?: string;
  [key: string]: unknown;
}

/** Base class of every error Cairn throws on purpose: a stable `code`, context fields, the original as `cause`. */
export class CairnError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  /** True when retrying the same call later may succeed (connection lost, database busy). */
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    context: ErrorContext = {},
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = context;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A workflowSlug, runId, stepId or versionId that is malformed (path traversal, empty, too long, bad characters).
 * The message names the field as the caller passed it (`field`, e.g. `parentRunId`); `kind` is the rule it breaks.
 */
export class InvalidIdentifierError extends CairnError {
  constructor(kind: string, value: unknown, reason: string, field: string = kind) {
    const named = field === kind ? field : `${field} (a ${kind})`;
    super(ErrorCode.InvalidIdentifier, `Invalid ${named} ${JSON.stringify(String(value)).slice(0, 120)}: ${reason}.`, {
      kind,
      field,
      value: String(value).slice(0, 200),
    });
  }
}

/** An event, or the arguments of a save* helper, that fail schema validation. Nothing was written. */
export class InvalidEventError extends CairnError {
  readonly issues: Array<{ path: string; message: string }>;
  constructor(message: string, issues: Array<{ path: string; message: string }>, context: ErrorContext = {}) {
    const detail = issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ");
    super(ErrorCode.InvalidEvent, `${message}${detail ? ` (${detail})` : ""}. Nothing was written.`, context);
    this.issues = issues;
  }
}

/** An argument that is not an event but is still invalid (negative limit, unknown option value). */
export class InvalidArgumentError extends CairnError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.InvalidArgument, message, context);
  }
}

/** A feed cursor that this backend did not hand out (mangled, truncated, or from another kind of store). */
export class InvalidFeedCursorError extends CairnError {
  constructor(cursor: string, reason: string) {
    super(
      ErrorCode.InvalidFeedCursor,
      `Feed cursor ${JSON.stringify(cursor.length > 80 ? `${cursor.slice(0, 80)}…` : cursor)} is not valid here (${reason}). Pass a cursor exactly as readFeed or \`cairn feed --json\` returned it, from the same store, or none to start from the beginning.`,
      { cursor, reason },
    );
  }
}

/** The run does not exist. */
export class RunNotFoundError extends CairnError {
  constructor(runId: string, workflowSlug?: string) {
    super(
      ErrorCode.RunNotFound,
      `Run ${runId}${workflowSlug ? ` of workflow ${workflowSlug}` : ""} does not exist. Check the id with \`cairn runs\`.`,
      { runId, workflowSlug },
    );
  }
}

/** The workflow is not registered (no registerWorkflow): what a submission of it throws, writing nothing. */
export class WorkflowNotFoundError extends CairnError {
  constructor(workflowSlug: string) {
    super(
      ErrorCode.WorkflowNotFound,
      `Workflow ${workflowSlug} is not registered. Start a worker that discovers it, or check \`cairn workflows\`.`,
      { workflowSlug },
    );
  }
}

/** The original design's name for WorkflowNotFoundError (one class, one code: `WORKFLOW_NOT_FOUND`). */
export const UnknownWorkflowError = WorkflowNotFoundError;
/** The original design's name for WorkflowNotFoundError. */
export type UnknownWorkflowError = WorkflowNotFoundError;

/** One failing field of an input: its path as the worker's zod check writes it (`email`, `items.0.qty`, `(root)`). */
export interface InputIssue {
  path: string;
  message: string;
}

/** A run input that does not match its workflow's input JSON Schema; `validationErrors` lists every failing field. Nothing was written. */
export class InvalidInputError extends CairnError {
  readonly validationErrors: InputIssue[];
  constructor(ctx: { workflowSlug: string; versionId?: string }, validationErrors: InputIssue[]) {
    const detail = validationErrors.map((i) => `${i.path}: ${i.message}`).join("; ");
    super(
      ErrorCode.InvalidInput,
      `The input of workflow ${ctx.workflowSlug} does not match its input schema (${detail}). Nothing was written; fix the input and submit again.`,
      { ...ctx, validationErrors },
    );
    this.validationErrors = validationErrors;
  }
}

/** A step that does not exist in its run (or workflow). */
export class StepNotFoundError extends CairnError {
  constructor(workflowSlug: string, runId: string, stepId: string) {
    super(ErrorCode.StepNotFound, `Step ${stepId} does not exist in run ${runId} of ${workflowSlug}.`, {
      workflowSlug,
      runId,
      stepId,
    });
  }
}

/** A heartbeat, completion or failure for an attempt that is no longer the step's running attempt (fencing). */
export class StaleAttemptError extends CairnError {
  constructor(ctx: {
    workflowSlug: string;
    runId: string;
    stepId: string;
    attemptNumber: number;
    currentAttempt?: number;
    currentStatus?: string;
  }) {
    super(
      ErrorCode.StaleAttempt,
      `Attempt ${ctx.attemptNumber} of step ${ctx.stepId} (run ${ctx.runId}) is no longer the running attempt ` +
        `(current: attempt ${ctx.currentAttempt ?? "none"}, status ${ctx.currentStatus ?? "unknown"}). Stop working on it; another worker owns the step.`,
      ctx,
    );
  }
}

/** saveStepStart on a step that is not claimable (not scheduled, not yet available, already claimed, or its run ended). */
export class StepNotClaimableError extends CairnError {
  constructor(ctx: { workflowSlug: string; runId: string; stepId: string }) {
    super(
      ErrorCode.StepNotClaimable,
      `Step ${ctx.stepId} of run ${ctx.runId} is not claimable (not scheduled and available, already claimed, or its run ended).`,
      ctx,
    );
  }
}

/** A write refused because the run already ended (completed, failed or cancelled). */
export class RunTerminalError extends CairnError {
  constructor(ctx: { workflowSlug: string; runId: string; stepId?: string; status: string }) {
    super(ErrorCode.RunTerminal, `Run ${ctx.runId} is ${ctx.status}; its steps must stop.`, ctx);
  }
}

/** The same idempotency key was submitted with a different input. */
export class IdempotencyConflictError extends CairnError {
  constructor(ctx: { workflowSlug: string; idempotencyKey: string; existingRunId: string }) {
    super(
      ErrorCode.IdempotencyConflict,
      `Idempotency key ${JSON.stringify(ctx.idempotencyKey)} of workflow ${ctx.workflowSlug} was already used by run ${ctx.existingRunId} with a different input. Use a new key, or submit the same input.`,
      ctx,
    );
  }
}

/** A workflow version id reused with different content. */
export class VersionConflictError extends CairnError {
  constructor(ctx: { workflowSlug: string; versionId: string }) {
    super(
      ErrorCode.VersionConflict,
      `Version ${ctx.versionId} of workflow ${ctx.workflowSlug} already exists with different content.`,
      ctx,
    );
  }
}

/** A damaged stored record (truncated file, invalid JSON, wrong schema, invalid row). */
export class CorruptRecordError extends CairnError {
  constructor(location: string, reason: string, context: ErrorContext = {}, cause?: unknown) {
    super(
      ErrorCode.CorruptRecord,
      `Corrupt record at ${location}: ${reason}. It was skipped; the rest was read.`,
      { ...context, path: location },
      { cause },
    );
  }
}

/** Storage written by a newer, incompatible Cairn schema. */
export class SchemaTooNewError extends CairnError {
  constructor(location: string, found: number, supported: number) {
    super(
      ErrorCode.SchemaTooNew,
      `${location} has Cairn schema version ${found}, newer than this Cairn supports (${supported}). Upgrade Cairn to open it.`,
      { path: location, found, supported },
    );
  }
}

/** Storage that is not a Cairn store, or is damaged beyond reading. */
export class NotACairnStoreError extends CairnError {
  constructor(location: string, reason: string, cause?: unknown) {
    super(
      ErrorCode.NotACairnStore,
      `${location} is not a Cairn store (${reason}). Point Cairn at a new path or a Cairn database.`,
      { path: location },
      { cause },
    );
  }
}

/** Only a failed run can be retried. */
export class RunNotRetryableError extends CairnError {
  constructor(ctx: { runId: string; status: string }) {
    super(
      ErrorCode.RunNotRetryable,
      `Run ${ctx.runId} is ${ctx.status}; only a failed run can be retried. Rerun it from a step (rerunFrom) to run it again.`,
      ctx,
    );
  }
}

/** The storage is temporarily unreachable (connection lost, server restarting, database locked too long). Retry later. */
export class BackendUnavailableError extends CairnError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.BackendUnavailable, `${message} The call can be retried.`, {}, { cause, retryable: true });
  }
}

/** The backend was used after close(). */
export class BackendClosedError extends CairnError {
  constructor() {
    super(ErrorCode.BackendClosed, "The backend is closed; create a new one.");
  }
}

/** The backend was used before initialize() finished. */
export class BackendNotInitializedError extends CairnError {
  constructor() {
    super(
      ErrorCode.BackendNotInitialized,
      "The backend is not initialized; await backend.initialize() before using it.",
    );
  }
}

/** Bad configuration (backend URL, options). */
export class ConfigError extends CairnError {
  constructor(message: string, context: ErrorContext = {}) {
    super(ErrorCode.Config, message, context);
  }
}

/** The database a backend URL names does not exist on its server (Postgres SQLSTATE 3D000). Nothing was created. */
export class DatabaseNotFoundError extends CairnError {
  constructor(ctx: { database: string; location: string; createCommand: string }, cause?: unknown) {
    super(
      ErrorCode.DatabaseNotFound,
      `Database ${JSON.stringify(ctx.database)} does not exist at ${ctx.location}. Create it with \`${ctx.createCommand}\` (or CREATE DATABASE), or name an existing database in the backend URL.`,
      ctx,
      { cause },
    );
  }
}

/** The store's path cannot be written: a read-only filesystem, missing permissions, an immutable directory. */
export class StoreNotWritableError extends CairnError {
  constructor(path: string, reason: string, cause?: unknown) {
    super(
      ErrorCode.StoreNotWritable,
      `Cannot write the store at ${path}: ${reason}. Pick a writable location (--backend), or fix the permissions.`,
      { path },
      { cause },
    );
  }
}

/** What stops a store path from being created or written (see pathProblem). */
export interface PathProblem {
  kind: "not-a-directory" | "read-only" | "no-permission";
  /** The nearest existing ancestor, where the problem is. */
  at: string;
  message: string;
}

/**
 * What stops the directory `path` from being created or written, seen at its nearest existing ancestor: a file where
 * a directory belongs, a read-only filesystem, no write permission (or an immutable directory). Undefined when that
 * ancestor looks fine. Drivers call it when translating a failed mkdir or open, whose own errors mislead (mkdir -p on a
 * read-only filesystem reports ENOENT).
 */
export function pathProblem(path: string): PathProblem | undefined {
  const errno = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;
  let at = resolve(path);
  for (;;) {
    try {
      if (!statSync(at).isDirectory())
        return { kind: "not-a-directory", at, message: `${at} is a file, not a directory` };
      break;
    } catch (err) {
      if ((errno(err) !== "ENOENT" && errno(err) !== "ENOTDIR") || dirname(at) === at) return undefined;
      at = dirname(at);
    }
  }
  try {
    accessSync(at, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = errno(err);
    if (code === "EROFS") return { kind: "read-only", at, message: `${at} is on a read-only filesystem` };
    if (code === "EACCES" || code === "EPERM")
      return {
        kind: "no-permission",
        at,
        message: `${at} is not writable (${code}${code === "EPERM" ? ", e.g. an immutable directory" : ""})`,
      };
    return undefined;
  }
}

/** True when `err` is a CairnError with the given code. */
export function isCairnError(err: unknown, code?: ErrorCode): err is CairnError {
  return err instanceof CairnError && (code === undefined || err.code === code);
}
