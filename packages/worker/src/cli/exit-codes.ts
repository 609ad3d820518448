import { isCairnError } from "@cairn/backend-interface";

/** What the CLI's exit status means. */
export const ExitCode = {
  ok: 0,
  /** Unexpected error, or a `--wait` that was interrupted before the run ended. */
  error: 1,
  /** Bad command line, or a submitted input the workflow's input schema rejects (nothing was submitted). */
  usage: 2,
  /** Bad configuration: backend URL, missing driver, config file. */
  config: 3,
  /** A run, workflow, step or error fingerprint that does not exist. */
  notFound: 4,
  /** An idempotency or version conflict. */
  conflict: 5,
  /** Workflow folders with problems (reported on stderr). */
  badWorkflows: 6,
  /** The storage is unreachable or busy; try again. */
  unavailable: 7,
  /** `--wait`: the run failed. */
  runFailed: 10,
  /** `--wait`: the run was cancelled. */
  runCancelled: 11,
  /** `--wait` stopped by Ctrl-C (SIGINT) before the run ended: 128 + 2, what shells report for a SIGINT. */
  interrupted: 130,
} as const;
/** An exit status of the CLI. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A command-line mistake; printed with the command's usage. `code` is USAGE in `--json` errors. */
export class UsageError extends Error {
  readonly code = "USAGE";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Something the CLI was asked about that does not exist and is not one of the backend's own errors (an error fingerprint). */
export class CliNotFoundError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "CliNotFoundError";
  }
}

/** The exit status for an error. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.usage;
  if (err instanceof CliNotFoundError) return ExitCode.notFound;
  if (
    isCairnError(err, "CONFIG_ERROR") ||
    isCairnError(err, "SCHEMA_TOO_NEW") ||
    isCairnError(err, "NOT_A_CAIRN_STORE")
  )
    return ExitCode.config;
  if (isCairnError(err, "DATABASE_NOT_FOUND") || isCairnError(err, "STORE_NOT_WRITABLE")) return ExitCode.config;
  if (
    isCairnError(err, "RUN_NOT_FOUND") ||
    isCairnError(err, "WORKFLOW_NOT_FOUND") ||
    isCairnError(err, "STEP_NOT_FOUND")
  )
    return ExitCode.notFound;
  if (
    isCairnError(err, "IDEMPOTENCY_CONFLICT") ||
    isCairnError(err, "VERSION_CONFLICT") ||
    isCairnError(err, "RUN_NOT_RETRYABLE") ||
    isCairnError(err, "FLOW_REJECTED")
  )
    return ExitCode.conflict;
  if (
    isCairnError(err, "INVALID_IDENTIFIER") ||
    isCairnError(err, "INVALID_ARGUMENT") ||
    isCairnError(err, "INVALID_EVENT") ||
    isCairnError(err, "INVALID_INPUT") ||
    isCairnError(err, "INVALID_FEED_CURSOR")
  )
    return ExitCode.usage;
  if (isCairnError(err, "BACKEND_UNAVAILABLE")) return ExitCode.unavailable;
  return ExitCode.error;
}
