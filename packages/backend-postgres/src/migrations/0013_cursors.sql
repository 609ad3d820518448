-- Cursors: values under a key advanced by compare-and-set (the last tick of each schedule). A new table only.
CREATE TABLE IF NOT EXISTS {{schema}}.cursors (
  key   text   PRIMARY KEY,
  value text   NOT NULL,
  at_us bigint NOT NULL
);
