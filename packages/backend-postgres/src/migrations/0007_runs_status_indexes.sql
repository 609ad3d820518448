-- listRuns with a status filter — what the worker polls per workflow on every loop iteration — had no index with the
-- status: it walked every run of the workflow (or all runs) filtering on status, linear in history. With the status
-- as an equality prefix, each status is one range already in page order (created_at_us DESC, run_id DESC), so a
-- page reads about `limit` rows; several statuses are one range each, merged (see listRunsQuery). Indexes only:
-- older code can still read and write (not breaking). IF NOT EXISTS: re-running it (as a test of 0006 does) is harmless.
CREATE INDEX IF NOT EXISTS runs_status_created_idx ON {{schema}}.runs (status, created_at_us DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_slug_status_created_idx ON {{schema}}.runs (workflow_slug, status, created_at_us DESC, run_id DESC);
