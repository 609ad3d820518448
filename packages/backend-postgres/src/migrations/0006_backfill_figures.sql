-- Backfill of the analytics figure columns of 0003, 0004 and 0005 for events written before those migrations: they
-- added the columns empty, so the SQL aggregates silently missed older events (no latency, owner or retry for them).
-- Values exactly as the driver extracts them at insert (eventFigureArrays / eventConcurrencyArray). Only rows whose
-- figures are missing are touched, so on a database created at 0006 or later this is one scan and no writes.
-- Bodies are json text as written; a body holding a \u0000 escape cannot be read with ->> (Postgres text cannot hold
-- NUL), so such rows (free text like error messages) are read with a pattern over the raw text instead: JSON.stringify
-- writes each key once, and a quote inside a string is always escaped, so `"key":` only matches the key itself.
CREATE FUNCTION {{schema}}.cairn_0006_field(body json, key text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN strpos(body::text, '\u0000') = 0 THEN body ->> key
    ELSE coalesce(
      ('"' || substring(body::text FROM '"' || key || '":"((?:[^"\\]|\\.)*)"') || '"')::json #>> '{}',
      substring(body::text FROM '"' || key || '":(-?[0-9.eE+]+|true|false)[,}]'))
  END
$$;

UPDATE {{schema}}.events SET
  attempt_number = {{schema}}.cairn_0006_field(body, 'attemptNumber')::integer,
  available_at_us = CASE WHEN type = 'StepScheduled' THEN {{schema}}.cairn_0006_field(body, 'availableAtUs')::bigint END,
  worker_id = CASE WHEN type IN ('StepStarted', 'StepHeartbeat') THEN {{schema}}.cairn_0006_field(body, 'workerId')
    WHEN type = 'StepReclaimed' THEN {{schema}}.cairn_0006_field(body, 'originalWorkerId') END,
  reason = CASE WHEN type = 'StepScheduled' THEN {{schema}}.cairn_0006_field(body, 'reason')
    WHEN type = 'StepFailed' THEN {{schema}}.cairn_0006_field(body, 'failureReason') END
WHERE step_id IS NOT NULL AND attempt_number IS NULL;

UPDATE {{schema}}.events SET worker_concurrency = {{schema}}.cairn_0006_field(body, 'workerConcurrency')::integer
WHERE type IN ('StepStarted', 'StepHeartbeat') AND worker_concurrency IS NULL AND {{schema}}.cairn_0006_field(body, 'workerConcurrency') IS NOT NULL;

UPDATE {{schema}}.events SET duration_us = {{schema}}.cairn_0006_field(body, 'durationUs')::bigint
WHERE type IN ('StepCompleted', 'StepFailed', 'WorkflowCompleted', 'WorkflowFailed') AND duration_us IS NULL AND {{schema}}.cairn_0006_field(body, 'durationUs') IS NOT NULL;

UPDATE {{schema}}.events SET terminal = {{schema}}.cairn_0006_field(body, 'terminal')::boolean
WHERE type = 'StepFailed' AND terminal IS NULL;

UPDATE {{schema}}.events SET copied = true
WHERE type IN ('StepCompleted', 'StepSkipped') AND NOT copied AND {{schema}}.cairn_0006_field(body, 'copiedFromRunId') IS NOT NULL;

DROP FUNCTION {{schema}}.cairn_0006_field(json, text);
