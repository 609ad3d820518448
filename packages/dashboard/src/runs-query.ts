import type { Backend, RunState } from "@cairn/backend-interface";
import { TIME_RANGES, type RunCursor, type RunFilter } from "./run-filter.js";

/** Most runs one listing reads from the store to fill a page (only the tenant filter is applied here, not in the store). */
export const MAX_SCAN = 20_000;

/** A page of runs, newest first, and where the next page starts (absent on the last page). */
export interface RunsPage {
  runs: RunState[];
  next?: RunCursor;
  /** True when MAX_SCAN runs were read and more may exist beyond them. */
  truncated: boolean;
}

/**
 * Reads runs matching `f` through Backend.listRuns: workflow, status, tag, time range and cursor in the store (the
 * cursor is where the store's walk starts, so a deep page costs what the first one does); only the tenant is checked
 * here, reading on from the last run read until enough match or the store has no more (at most MAX_SCAN).
 */
export async function selectRuns(
  backend: Backend,
  f: RunFilter,
  want: number,
  nowUs: number,
): Promise<{ runs: RunState[]; more: boolean; truncated: boolean }> {
  const matched: RunState[] = [];
  let cursor: RunCursor | undefined = f.cursor;
  let scanned = 0;
  for (;;) {
    const limit = f.tenant === undefined ? want + 1 : Math.min(1000, Math.max(100, want * 4));
    const read = await backend.listRuns({
      ...(f.workflow ? { workflowSlug: f.workflow } : {}),
      ...(f.status.length ? { status: f.status } : {}),
      ...(f.tag ? { tags: [f.tag] } : {}),
      ...(f.since ? { createdAfterUs: Math.max(0, nowUs - TIME_RANGES[f.since]) } : {}),
      ...(cursor ? { before: cursor } : {}),
      limit,
    });
    scanned += read.length;
    matched.push(
      ...read.filter((r) => f.tenant === undefined || r.tenantId === f.tenant || r.metadata?.tenant === f.tenant),
    );
    const last = read[read.length - 1];
    const exhausted = read.length < limit || !last;
    if (matched.length > want || exhausted || scanned >= MAX_SCAN) {
      return {
        runs: matched.slice(0, want),
        more: matched.length > want,
        truncated: !exhausted && scanned >= MAX_SCAN && matched.length <= want,
      };
    }
    cursor = { createdAtUs: last.createdAtUs, runId: last.runId };
  }
}

/** One page of the runs list for the filter, with the cursor of the next page. */
export async function listRunsPage(backend: Backend, f: RunFilter, nowUs: number): Promise<RunsPage> {
  const { runs, more, truncated } = await selectRuns(backend, f, f.limit, nowUs);
  const last = runs[runs.length - 1];
  return { runs, truncated, ...(more && last ? { next: { createdAtUs: last.createdAtUs, runId: last.runId } } : {}) };
}
