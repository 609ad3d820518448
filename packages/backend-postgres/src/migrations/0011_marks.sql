-- Marks: records written once under a key (leases of time slots, send-once decisions). A new table only.
CREATE TABLE IF NOT EXISTS {{schema}}.marks (
  key    text   PRIMARY KEY,
  holder text   NOT NULL,
  at_us  bigint NOT NULL
);
