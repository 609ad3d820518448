import type { Backend, RunState } from "@cairn/backend-interface";
import { TIME_RANGES, type RunCursor, type RunFilter } from "./run-filter.js";

/** Most runs one listing reads from the store: the public listRuns has no cursor, so deeper pages read more. */
export const MAX_SCAN = 20_000;

/** A page of runs, newest first, and where the next page starts (absent on the last page). */
export interface RunsPage {
  runs: RunState[];
  next?: RunCursor;
  /** True when MAX_SCAN runs were read and more may exist beyond them. */
  truncated: boolean;
}

const before = (r: RunState, c: RunCursor): boolean =>
  r.createdAtUs < c.createdAtUs || (r.createdAtUs === c.createdAtUs && r.runId < c.runId);

/** The filter's predicate for what listRuns cannot filter itself: tenant, time range, cursor. */
function matcher(f: RunFilter, nowUs: number): (r: RunState) => boolean {
  const sinceUs = f.since ? nowUs - TIME_RANGES[f.since] : undefined;
  return (r) =>
    (f.tenant === undefined || r.metadata?.tenant === f.tenant) &&
    (sinceUs === undefined || r.createdAtUs >= sinceUs) &&
    (f.cursor === undefined || before(r, f.cursor));
}

const newestFirst = (a: RunState, b: RunState): number =>
  b.createdAtUs - a.createdAtUs || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0);

/**
 * Reads runs matching `f` through Backend.listRuns (workflow, status and tag in the store; tenant, time and cursor
 * here), up to `want` of them, growing the read until enough match or the store has no more (at most MAX_SCAN).
 */
export async function selectRuns(
  backend: Backend,
  f: RunFilter,
  want: number,
  nowUs: number,
): Promise<{ runs: RunState[]; more: boolean; truncated: boolean }> {
  const match = matcher(f, nowUs);
  let limit = Math.min(MAX_SCAN, Math.max(100, want * 4));
  for (;;) {
    const read = await backend.listRuns({
      ...(f.workflow ? { workflowSlug: f.workflow } : {}),
      ...(f.status.length ? { status: f.status } : {}),
      ...(f.tag ? { tags: [f.tag] } : {}),
      limit,
    });
    const sinceUs = f.since ? nowUs - TIME_RANGES[f.since] : undefined;
    const matched = read.filter(match).sort(newestFirst);
    const exhausted = read.length < limit;
    // Newest first: once the oldest run read is older than the time range, nothing further can match.
    const pastRange = sinceUs !== undefined && read.length > 0 && read[read.length - 1]!.createdAtUs < sinceUs;
    if (matched.length > want || exhausted || pastRange || limit >= MAX_SCAN) {
      return {
        runs: matched.slice(0, want),
        more: matched.length > want,
        truncated: !exhausted && !pastRange && limit >= MAX_SCAN && matched.length <= want,
      };
    }
    limit = Math.min(MAX_SCAN, limit * 4);
  }
}

/** One page of the runs list for the filter, with the cursor of the next page. */
export async function listRunsPage(backend: Backend, f: RunFilter, nowUs: number): Promise<RunsPage> {
  const { runs, more, truncated } = await selectRuns(backend, f, f.limit, nowUs);
  const last = runs[runs.length - 1];
  return { runs, truncated, ...(more && last ? { next: { createdAtUs: last.createdAtUs, runId: last.runId } } : {}) };
}
