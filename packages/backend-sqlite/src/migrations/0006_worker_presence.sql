-- Workers' own presence records (Backend.recordWorkerPresence): one row per worker id, replaced at each write, so
-- an idle worker looks alive without step events. A new table only: older code can still read and write.
CREATE TABLE IF NOT EXISTS workers_presence (
  worker_id     TEXT    PRIMARY KEY,
  last_seen_us  INTEGER NOT NULL,
  presence      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS workers_presence_last_seen ON workers_presence (last_seen_us);
