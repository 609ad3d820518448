import { InvalidArgumentError, type RunStatus } from "@cairn/backend-interface";
import { intInput, runIdInput, workflowInput } from "./request-input.js";

/** Run statuses, in the order the filter shows them. */
export const RUN_STATUSES: readonly RunStatus[] = ["pending", "running", "completed", "failed", "cancelled"];

/** Time ranges the runs filter offers, in µs. */
export const TIME_RANGES = { "15m": 900e6, "1h": 3600e6, "24h": 86_400e6, "7d": 604_800e6 } as const;
/** A time range of the runs filter. */
export type TimeRange = keyof typeof TIME_RANGES;

/** Where a page of runs continues: the last run shown (newest-first order: createdAt desc, runId desc). */
export interface RunCursor {
  createdAtUs: number;
  runId: string;
}

/** A validated runs filter: every field checked before it reaches a query. */
export interface RunFilter {
  workflow?: string;
  status: RunStatus[];
  tag?: string;
  /** Matches the run's tenantId (submitted with a tenant), or `metadata.tenant` of runs that carry one. */
  tenant?: string;
  since?: TimeRange;
  cursor?: RunCursor;
  limit: number;
}

const TAG = /^[^\u0000-\u001f\u007f]{1,256}$/;
const TENANT = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** Parses a runs filter from query parameters (repeated `status` allowed); InvalidArgumentError / InvalidIdentifierError on bad input. */
export function parseRunFilter(query: Record<string, string | string[] | undefined>): RunFilter {
  const one = (k: string): string | undefined => {
    const v = query[k];
    if (Array.isArray(v)) {
      if (v.length > 1) throw new InvalidArgumentError(`${k} may be given once.`);
      return v[0] || undefined;
    }
    return v || undefined;
  };
  const statuses = ([] as string[]).concat(query.status ?? []).filter((s) => s !== "");
  for (const s of statuses)
    if (!(RUN_STATUSES as readonly string[]).includes(s))
      throw new InvalidArgumentError(
        `Unknown run status ${JSON.stringify(s).slice(0, 40)}; use one of ${RUN_STATUSES.join(", ")}.`,
      );
  const filter: RunFilter = {
    status: [...new Set(statuses)] as RunStatus[],
    limit: intInput("limit", one("limit"), { min: 1, max: 200, fallback: 25 }),
  };
  const workflow = one("workflow");
  if (workflow) filter.workflow = workflowInput(workflow);
  const tag = one("tag");
  if (tag) {
    if (!TAG.test(tag)) throw new InvalidArgumentError("tag must be 1 to 256 characters without control characters.");
    filter.tag = tag;
  }
  const tenant = one("tenant");
  if (tenant) {
    if (!TENANT.test(tenant)) throw new InvalidArgumentError("tenant must be 1 to 128 letters, digits or . _ : @ -.");
    filter.tenant = tenant;
  }
  const since = one("since");
  if (since) {
    if (!(since in TIME_RANGES))
      throw new InvalidArgumentError(`since must be one of ${Object.keys(TIME_RANGES).join(", ")}.`);
    filter.since = since as TimeRange;
  }
  const cursor = one("cursor");
  if (cursor) filter.cursor = decodeCursor(cursor);
  return filter;
}

/** The cursor's text form: `<createdAtUs>.<runId>`. */
export function encodeCursor(c: RunCursor): string {
  return `${c.createdAtUs}.${c.runId}`;
}

function decodeCursor(text: string): RunCursor {
  const m = /^(\d{1,17})\.(.+)$/.exec(text);
  if (!m) throw new InvalidArgumentError("cursor must be <createdAtUs>.<runId> as the previous page gave it.");
  return { createdAtUs: Number(m[1]), runId: runIdInput(m[2], "cursor") };
}

/** The filter as query parameters (the cursor and limit left out unless asked for), for links and forms. */
export function filterQuery(f: RunFilter, o: { cursor?: RunCursor; keepLimit?: boolean } = {}): string {
  const p = new URLSearchParams();
  if (f.workflow) p.set("workflow", f.workflow);
  for (const s of f.status) p.append("status", s);
  if (f.tag) p.set("tag", f.tag);
  if (f.tenant) p.set("tenant", f.tenant);
  if (f.since) p.set("since", f.since);
  if (o.keepLimit && f.limit !== 25) p.set("limit", String(f.limit));
  if (o.cursor) p.set("cursor", encodeCursor(o.cursor));
  return p.toString();
}

/** True when the filter selects something narrower than "every run". */
export function isNarrowed(f: RunFilter): boolean {
  return Boolean(f.workflow || f.status.length || f.tag || f.tenant || f.since);
}
