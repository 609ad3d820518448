-- The worker's declared concurrency (StepStarted/StepHeartbeat.workerConcurrency), extracted at insert like 0004's
-- figures, and a covering index for the active-workers query (signs of life and attempt ends of the last 24 h).
ALTER TABLE {{schema}}.events ADD COLUMN worker_concurrency integer;
CREATE INDEX events_worker_signs_idx ON {{schema}}.events (timestamp_us)
  INCLUDE (type, worker_id, worker_concurrency, event_id, workflow_slug, run_id, step_id, attempt_number, copied)
  WHERE type IN ('StepStarted', 'StepHeartbeat', 'StepCompleted', 'StepFailed', 'StepSkipped', 'StepReclaimed', 'WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled');
