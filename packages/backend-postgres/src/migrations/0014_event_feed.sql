-- The event feed: a position per committing transaction, taken in commit order (see docs/event-feed.md).
-- `seq` is assigned at insert, not at commit, so seq order is not commit order. Instead every events row records
-- the transaction that wrote it (xid), and at commit a deferred trigger numbers that transaction in event_commits
-- under a schema-wide advisory lock that is held until the transaction has committed (locks are released after the
-- commit becomes visible), so positions are handed out in commit order and a reader that sees position P also
-- sees every position before P. The feed is event_commits by position, each transaction's events by seq.

-- A non-volatile default: existing rows take this migration's xid without a table rewrite.
ALTER TABLE {{schema}}.events ADD COLUMN IF NOT EXISTS xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS events_xid_idx ON {{schema}}.events (xid, seq);

CREATE TABLE IF NOT EXISTS {{schema}}.event_commits (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid      xid8   NOT NULL UNIQUE
);

-- Every event already stored becomes the feed's first position, in seq order.
INSERT INTO {{schema}}.event_commits (xid) SELECT pg_current_xact_id()
  WHERE EXISTS (SELECT 1 FROM {{schema}}.events) AND NOT EXISTS (SELECT 1 FROM {{schema}}.event_commits);

CREATE OR REPLACE FUNCTION {{schema}}.event_feed_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM {{schema}}.event_commits WHERE xid = pg_current_xact_id()) THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('cairn-feed:' || TG_TABLE_SCHEMA, 0));
    INSERT INTO {{schema}}.event_commits (xid) VALUES (pg_current_xact_id());
  END IF;
  RETURN NULL;
END $$;

-- Deferred: runs at commit, after every statement of the transaction, so the lock is held only while committing.
-- (Every statement of this file may run again, as the migration tests do.)
DROP TRIGGER IF EXISTS events_feed ON {{schema}}.events;
CREATE CONSTRAINT TRIGGER events_feed AFTER INSERT ON {{schema}}.events
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {{schema}}.event_feed_commit();
