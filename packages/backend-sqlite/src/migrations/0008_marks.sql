-- Marks: records written once under a key (leases of time slots, send-once decisions). A new table only: older code
-- can still read and write.
CREATE TABLE IF NOT EXISTS marks (
  key    TEXT    PRIMARY KEY,
  holder TEXT    NOT NULL,
  at_us  INTEGER NOT NULL
) WITHOUT ROWID;
