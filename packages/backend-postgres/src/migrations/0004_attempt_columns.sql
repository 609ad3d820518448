-- More analytics figures extracted by the driver at insert (see 0003): the attempt, the worker, the availability and
-- the reason, so scheduling latency, retries and worker stability aggregate in SQL without reading event bodies.
--   attempt_number   every step event's attemptNumber
--   available_at_us  StepScheduled.availableAtUs
--   worker_id        StepStarted/StepHeartbeat.workerId, StepReclaimed.originalWorkerId
--   reason           StepScheduled.reason, StepFailed.failureReason
ALTER TABLE {{schema}}.events
  ADD COLUMN attempt_number integer,
  ADD COLUMN available_at_us bigint,
  ADD COLUMN worker_id text,
  ADD COLUMN reason text;
DROP INDEX {{schema}}.events_type_time_idx;
CREATE INDEX events_type_time_idx ON {{schema}}.events (type, timestamp_us)
  INCLUDE (workflow_slug, run_id, step_id, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason);
