-- cairn:breaking (older Cairn versions would append events without their facts, so they must refuse this database)
-- Analytics facts: one narrow row per event an analytics query counts, clustered by time so a window is one
-- contiguous range scan that never touches the (wide) events table. Derived from events, written in the same
-- transaction as the event. Results copied from a parent run by rerunFrom are never counted, so never stored here.
CREATE TABLE event_facts (
  timestamp_us    INTEGER NOT NULL,
  seq             INTEGER NOT NULL,   -- events.seq
  type            TEXT    NOT NULL,
  workflow_slug   TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  step_id         TEXT,               -- NULL for workflow events
  attempt_number  INTEGER,
  duration_us     INTEGER,            -- StepCompleted, StepFailed, WorkflowCompleted, WorkflowFailed
  available_at_us INTEGER,            -- StepScheduled
  worker_id       TEXT,               -- StepStarted/StepHeartbeat workerId, StepReclaimed originalWorkerId
  flag            INTEGER NOT NULL,   -- StepFailed: terminal; StepScheduled: reason = 'retry'; else 0
  failure_reason  TEXT,               -- StepFailed
  event_id        TEXT    NOT NULL,
  PRIMARY KEY (timestamp_us, seq)
) WITHOUT ROWID;

INSERT INTO event_facts (timestamp_us, seq, type, workflow_slug, run_id, step_id, attempt_number, duration_us, available_at_us, worker_id, flag, failure_reason, event_id)
SELECT timestamp_us, seq, type, workflow_slug, run_id, step_id,
       json_extract(body, '$.attemptNumber'),
       json_extract(body, '$.durationUs'),
       json_extract(body, '$.availableAtUs'),
       CASE type WHEN 'StepReclaimed' THEN json_extract(body, '$.originalWorkerId') ELSE json_extract(body, '$.workerId') END,
       CASE type WHEN 'StepFailed' THEN coalesce(json_extract(body, '$.terminal'), 0)
                 WHEN 'StepScheduled' THEN json_extract(body, '$.reason') = 'retry' ELSE 0 END,
       json_extract(body, '$.failureReason'),
       json_extract(body, '$.eventId')
FROM events
WHERE type IN ('StepScheduled', 'StepStarted', 'StepHeartbeat', 'StepCompleted', 'StepFailed', 'StepSkipped', 'StepReclaimed',
               'WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled')
  AND json_valid(body)
  AND NOT (type IN ('StepCompleted', 'StepSkipped') AND json_extract(body, '$.copiedFromRunId') IS NOT NULL);
