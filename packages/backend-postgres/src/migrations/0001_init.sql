-- Cairn Postgres schema, version 1. Never edit once landed; add a new numbered file instead.
-- {{schema}} is replaced by the quoted schema identifier; nothing else is ever interpolated.

-- The append-only log: seq is the total order; body is the validated, normalised event (json keeps it verbatim).
CREATE TABLE {{schema}}.events (
  seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id      text   NOT NULL,
  workflow_slug text   NOT NULL,
  run_id        text   NOT NULL,
  step_id       text,
  type          text   NOT NULL,
  timestamp_us  bigint NOT NULL,
  body          json   NOT NULL
);
CREATE INDEX events_run_idx ON {{schema}}.events (run_id, seq);
CREATE INDEX events_time_idx ON {{schema}}.events (timestamp_us);
CREATE INDEX events_slug_time_idx ON {{schema}}.events (workflow_slug, timestamp_us);

-- Projection of each run's workflow events (reduceRunState), updated in the transaction that appends them.
CREATE TABLE {{schema}}.runs (
  run_id          text    PRIMARY KEY,
  workflow_slug   text    NOT NULL,
  status          text    NOT NULL,
  live            boolean NOT NULL,
  available_at_us bigint  NOT NULL,
  priority        integer NOT NULL,
  created_at_us   bigint  NOT NULL,
  idempotency_key text,
  tags            text[]  NOT NULL DEFAULT '{}',
  state           json    NOT NULL
);
-- The idempotency key record: unique per workflow, written atomically with the run.
CREATE UNIQUE INDEX runs_idempotency_idx ON {{schema}}.runs (workflow_slug, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_created_idx ON {{schema}}.runs (created_at_us DESC, run_id DESC);
CREATE INDEX runs_slug_created_idx ON {{schema}}.runs (workflow_slug, created_at_us DESC, run_id DESC);
CREATE INDEX runs_live_idx ON {{schema}}.runs (workflow_slug) WHERE live;
CREATE INDEX runs_tags_idx ON {{schema}}.runs USING gin (tags);

-- Projection of each step's events (reduceStepState). run_live mirrors the run's liveness so the worker's
-- polling queries read one partial index without a join; it is updated with the run, under the step row lock.
CREATE TABLE {{schema}}.steps (
  run_id          text    NOT NULL,
  workflow_slug   text    NOT NULL,
  step_id         text    NOT NULL,
  status          text    NOT NULL,
  run_live        boolean NOT NULL,
  available_at_us bigint,
  priority        integer NOT NULL,
  attempt_number  integer NOT NULL,
  last_seen_us    bigint,
  created_at_us   bigint  NOT NULL,
  first_seq       bigint  NOT NULL,
  state           json    NOT NULL,
  PRIMARY KEY (run_id, workflow_slug, step_id)
);
CREATE INDEX steps_ready_idx ON {{schema}}.steps (priority DESC, available_at_us, run_id, step_id) WHERE status = 'scheduled' AND run_live;
CREATE INDEX steps_running_idx ON {{schema}}.steps (last_seen_us) WHERE status = 'running' AND run_live;
CREATE INDEX steps_slug_idx ON {{schema}}.steps (workflow_slug, run_id);

CREATE TABLE {{schema}}.workflows (
  slug         text PRIMARY KEY,
  registration json NOT NULL
);

CREATE TABLE {{schema}}.versions (
  workflow_slug text   NOT NULL,
  version_id    text   NOT NULL,
  created_at_us bigint NOT NULL,
  version       json   NOT NULL,
  PRIMARY KEY (workflow_slug, version_id)
);
CREATE INDEX versions_newest_idx ON {{schema}}.versions (workflow_slug, created_at_us DESC, version_id DESC);

-- Workers seen through StepStarted / StepHeartbeat events.
CREATE TABLE {{schema}}.workers (
  worker_id     text   PRIMARY KEY,
  first_seen_us bigint NOT NULL,
  last_seen_us  bigint NOT NULL
);
