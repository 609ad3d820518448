import { isCairnError } from "@cairn/backend-interface";

/** Stable codes of the dashboard's own errors (the Backend's CairnError codes are used as they are). */
export const DashboardErrorCode = {
  ActionsDisabled: "ACTIONS_DISABLED",
  BadRequestOrigin: "BAD_REQUEST_ORIGIN",
} as const;
/** A stable code of a dashboard error. */
export type DashboardErrorCode = (typeof DashboardErrorCode)[keyof typeof DashboardErrorCode];

/** An error of the dashboard itself: a stable `code` and the HTTP status it answers with. */
export class DashboardError extends Error {
  constructor(
    readonly code: DashboardErrorCode,
    message: string,
    readonly status: 403 | 400,
  ) {
    super(message);
    this.name = "DashboardError";
  }
}

/** An action (cancel, retry, rerun, bulk) sent to a dashboard started with `readOnly`. */
export class ActionsDisabledError extends DashboardError {
  constructor() {
    super(
      DashboardErrorCode.ActionsDisabled,
      "This dashboard is read-only: actions are turned off. Start it without --read-only to use them.",
      403,
    );
  }
}

/** A form post without this dashboard's form token, or from another site: refused so no other page can act for a logged-in user. */
export class BadRequestOriginError extends DashboardError {
  constructor() {
    super(
      DashboardErrorCode.BadRequestOrigin,
      "The form was not sent from this dashboard (missing or wrong form token). Reload the page and try again.",
      403,
    );
  }
}

/** The HTTP status and stable code of an error thrown while answering a request. */
export function httpErrorOf(err: unknown): {
  status: 400 | 403 | 404 | 409 | 503 | 500;
  code: string;
  message: string;
} {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof DashboardError) return { status: err.status, code: err.code, message };
  if (!isCairnError(err)) return { status: 500, code: "ERROR", message: "Internal error; see the dashboard's log." };
  const status =
    (
      {
        INVALID_IDENTIFIER: 400,
        INVALID_ARGUMENT: 400,
        INVALID_EVENT: 400,
        INVALID_INPUT: 400,
        RUN_NOT_FOUND: 404,
        WORKFLOW_NOT_FOUND: 404,
        STEP_NOT_FOUND: 404,
        RUN_TERMINAL: 409,
        RUN_NOT_RETRYABLE: 409,
        IDEMPOTENCY_CONFLICT: 409,
        VERSION_CONFLICT: 409,
        BACKEND_UNAVAILABLE: 503,
      } as const
    )[err.code as string] ?? 500;
  return { status: status as 400, code: err.code, message };
}
