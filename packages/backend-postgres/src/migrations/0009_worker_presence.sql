-- Workers' own presence records (Backend.recordWorkerPresence) on the workers table: the latest record as written
-- (replaced at each write) and its time, so an idle worker looks alive without step events. A row created by a
-- presence write also counts as the worker seen (first_seen_us, last_seen_us). Additive: older code ignores the columns.
ALTER TABLE {{schema}}.workers ADD COLUMN IF NOT EXISTS presence jsonb, ADD COLUMN IF NOT EXISTS presence_seen_us bigint;
CREATE INDEX IF NOT EXISTS workers_presence_seen_idx ON {{schema}}.workers (presence_seen_us) WHERE presence_seen_us IS NOT NULL;
