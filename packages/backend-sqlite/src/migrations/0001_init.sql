-- Cairn SQLite schema, version 1. Never edit this file once landed: add 0002_*.sql instead.
-- The events table is the source of truth; every other table is a projection of it, updated in the
-- same transaction as the events it derives from (reduceRunState / reduceStepState applied to the row).

CREATE TABLE cairn_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- Append-only. `seq` gives each run's events one total order (append order).
CREATE TABLE events (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id        TEXT    NOT NULL,
  workflow_slug TEXT    NOT NULL,
  step_id       TEXT,
  category      TEXT    NOT NULL CHECK (category IN ('workflow', 'step')),
  type          TEXT    NOT NULL,
  timestamp_us  INTEGER NOT NULL,
  body          TEXT    NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, seq);
CREATE INDEX events_by_step ON events (run_id, step_id, seq);
CREATE INDEX events_by_time ON events (timestamp_us);

-- One row per run: the projected RunState plus the columns the polling queries filter and sort on.
CREATE TABLE runs (
  run_id          TEXT    PRIMARY KEY,
  workflow_slug   TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  live            INTEGER NOT NULL,   -- 1 while the run is not terminal
  created_at_us   INTEGER NOT NULL,
  available_at_us INTEGER NOT NULL,
  priority        INTEGER NOT NULL,
  state           TEXT    NOT NULL
);
CREATE INDEX runs_newest ON runs (created_at_us DESC, run_id DESC);
CREATE INDEX runs_by_workflow ON runs (workflow_slug, created_at_us DESC, run_id DESC);
CREATE INDEX runs_by_status ON runs (status, created_at_us DESC, run_id DESC);
CREATE INDEX runs_live ON runs (workflow_slug, run_id) WHERE live = 1;

CREATE TABLE run_tags (
  tag    TEXT NOT NULL,
  run_id TEXT NOT NULL,
  PRIMARY KEY (tag, run_id)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_run ON run_tags (run_id);

-- One row per step of a run: the projected StepState plus query columns.
-- run_live mirrors runs.live so the partial indexes below cover only live work.
CREATE TABLE steps (
  run_id          TEXT    NOT NULL,
  step_id         TEXT    NOT NULL,
  workflow_slug   TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  run_live        INTEGER NOT NULL,
  attempt_number  INTEGER NOT NULL,
  priority        INTEGER NOT NULL,
  available_at_us INTEGER,
  last_seen_us    INTEGER,            -- last heartbeat, else start time
  first_seq       INTEGER NOT NULL,   -- seq of the step's first event: readSteps returns steps in this order
  state           TEXT    NOT NULL,
  PRIMARY KEY (run_id, step_id)
);
CREATE INDEX steps_ready ON steps (priority DESC, available_at_us, run_id, step_id) WHERE status = 'scheduled' AND run_live = 1;
CREATE INDEX steps_running ON steps (last_seen_us) WHERE status = 'running' AND run_live = 1;
CREATE INDEX steps_live ON steps (workflow_slug, run_id) WHERE run_live = 1;

CREATE TABLE idempotency_keys (
  workflow_slug   TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL,
  run_id          TEXT    NOT NULL,
  created_at_us   INTEGER NOT NULL,
  PRIMARY KEY (workflow_slug, idempotency_key)
) WITHOUT ROWID;

CREATE TABLE workflows (
  slug         TEXT PRIMARY KEY,
  registration TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE workflow_versions (
  workflow_slug TEXT    NOT NULL,
  version_id    TEXT    NOT NULL,
  created_at_us INTEGER NOT NULL,
  version       TEXT    NOT NULL,
  PRIMARY KEY (workflow_slug, version_id)
) WITHOUT ROWID;
CREATE INDEX workflow_versions_newest ON workflow_versions (workflow_slug, created_at_us DESC, version_id DESC);
