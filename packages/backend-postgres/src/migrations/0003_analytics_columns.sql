-- Columns and an index for analytics in SQL: the figures the aggregates read, extracted by the driver at insert, so
-- counts and percentiles over a window are index-only scans of (type, timestamp_us) instead of parsing event bodies.
-- (Not generated columns: Postgres cannot evaluate ->> on json holding a \u0000 escape, which events may contain.)
ALTER TABLE {{schema}}.events
  ADD COLUMN duration_us bigint,
  ADD COLUMN terminal boolean,
  ADD COLUMN copied boolean NOT NULL DEFAULT false;
CREATE INDEX events_type_time_idx ON {{schema}}.events (type, timestamp_us) INCLUDE (workflow_slug, run_id, step_id, duration_us, terminal, copied);
