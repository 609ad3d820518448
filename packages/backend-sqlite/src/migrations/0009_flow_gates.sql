-- Flow control: each run's gate key (runs of a workflow with one key share its limits) and its start time, as
-- columns the writer fills from the projected state (plain columns, not generated ones: a generated column would parse
-- the state's JSON at every row write for every partial index below), and the indexes that count a gate inside the
-- write that starts a run. Rows written before this migration have no gate, which is right: no version declared one.
ALTER TABLE runs ADD COLUMN flow_key TEXT;
ALTER TABLE runs ADD COLUMN started_at_us INTEGER;
UPDATE runs SET started_at_us = json_extract(state, '$.startedAtUs') WHERE json_extract(state, '$.startedAtUs') IS NOT NULL;
CREATE INDEX runs_by_gate ON runs (workflow_slug, flow_key, status, priority DESC, created_at_us, run_id) WHERE flow_key IS NOT NULL;
CREATE INDEX runs_gate_starts ON runs (workflow_slug, flow_key, started_at_us) WHERE flow_key IS NOT NULL;
CREATE INDEX runs_waiting_gates ON runs (available_at_us, workflow_slug, flow_key) WHERE flow_key IS NOT NULL AND status = 'pending';
-- Due runs without a gate (gated runs are started through their gate, so a full gate never hides the runs behind it).
CREATE INDEX runs_due_ungated ON runs (available_at_us, run_id) WHERE status = 'pending' AND json_extract(state, '$.versionId') IS NOT NULL AND flow_key IS NULL;
