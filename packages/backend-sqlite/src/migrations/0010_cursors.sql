-- Cursors: values under a key advanced by compare-and-set (the last tick of each schedule). A new table only: older
-- code can still read and write.
CREATE TABLE IF NOT EXISTS cursors (
  key   TEXT    PRIMARY KEY,
  value TEXT    NOT NULL,
  at_us INTEGER NOT NULL
) WITHOUT ROWID;
