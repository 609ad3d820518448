-- A per-row version of step projections: every write of a step row increments it, so a fenced write can read the
-- row without locking and then update it only if nothing changed in between (one statement, no transaction).
ALTER TABLE {{schema}}.steps ADD COLUMN version bigint NOT NULL DEFAULT 0;
