-- The store-side engine's maintenance reads, bounded by the work due rather than by a newest-N window:
-- pending runs of registered versions in due order (a backlog of later runs cannot hide an earlier one), and running
-- runs with a timeout in deadline order. Indexes only.
CREATE INDEX IF NOT EXISTS runs_due_idx ON {{schema}}.runs (available_at_us, run_id) WHERE status = 'pending' AND (state->>'versionId') IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_deadline_idx ON {{schema}}.runs ((((state->>'startedAtUs')::bigint + (state->>'timeoutUs')::bigint)))
  WHERE status = 'running' AND (state->>'timeoutUs') IS NOT NULL;
