-- listRuns({workflowSlug, status}) — what the worker polls per workflow on every loop iteration — read every run of
-- the workflow (runs_by_workflow, filtering on status): linear in history. With the status next to the slug, each
-- status is one range already in page order (created_at_us DESC, run_id DESC), so a page reads about `limit` rows.
-- (Status alone is served by runs_by_status of 0001.) An index only: older code can still read and write (not breaking).
CREATE INDEX runs_by_workflow_status ON runs (workflow_slug, status, created_at_us DESC, run_id DESC);
