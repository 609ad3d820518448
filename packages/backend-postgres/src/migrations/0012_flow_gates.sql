-- Flow control: each run's gate key (runs of a workflow with one key share its limits) and its start time, as
-- generated columns over the projected state, and the indexes that count a gate inside the write that starts a run
-- (under an advisory lock on the gate). Older code can still read and write.
ALTER TABLE {{schema}}.runs ADD COLUMN IF NOT EXISTS flow_key text GENERATED ALWAYS AS (state->>'flowKey') STORED;
ALTER TABLE {{schema}}.runs ADD COLUMN IF NOT EXISTS started_at_us bigint GENERATED ALWAYS AS ((state->>'startedAtUs')::bigint) STORED;
CREATE INDEX IF NOT EXISTS runs_by_gate_idx ON {{schema}}.runs (workflow_slug, flow_key, status, priority DESC, created_at_us, run_id) WHERE flow_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_gate_starts_idx ON {{schema}}.runs (workflow_slug, flow_key, started_at_us) WHERE flow_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_waiting_gates_idx ON {{schema}}.runs (available_at_us, workflow_slug, flow_key) WHERE flow_key IS NOT NULL AND status = 'pending';
-- Due runs without a gate (gated runs are started through their gate, so a full gate never hides the runs behind it).
CREATE INDEX IF NOT EXISTS runs_due_ungated_idx ON {{schema}}.runs (available_at_us, run_id) WHERE status = 'pending' AND (state->>'versionId') IS NOT NULL AND flow_key IS NULL;
