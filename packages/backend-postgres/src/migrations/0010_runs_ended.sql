-- Retention: ended runs in the order they ended, so deleting old runs reads only the runs it deletes. An index only.
CREATE INDEX IF NOT EXISTS runs_ended_idx ON {{schema}}.runs (status, ((state->>'endedAtUs')::bigint), run_id) WHERE NOT live;
