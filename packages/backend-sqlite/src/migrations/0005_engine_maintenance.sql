-- The store-side engine's maintenance reads, bounded by the work due rather than by a newest-N window:
-- pending runs of registered versions in due order (a backlog of later runs cannot hide an earlier one), and running
-- runs with a timeout in deadline order. Indexes only: older code can still read and write.
CREATE INDEX runs_due ON runs (available_at_us, run_id) WHERE status = 'pending' AND json_extract(state, '$.versionId') IS NOT NULL;
CREATE INDEX runs_deadline ON runs ((json_extract(state, '$.startedAtUs') + json_extract(state, '$.timeoutUs')))
  WHERE status = 'running' AND json_extract(state, '$.timeoutUs') IS NOT NULL;
