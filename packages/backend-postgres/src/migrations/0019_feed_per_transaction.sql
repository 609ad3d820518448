-- The event feed's commit position (0014) taken once per transaction instead of once per event row. 0014's deferred
-- trigger ran for every inserted event at commit (a plpgsql call and an index probe each, thousands for a batch
-- submission); now a statement-level trigger on events marks the transaction once (a transaction-local setting
-- remembers it was marked), and the deferred trigger runs on that one mark. At commit it does what 0014's did, under
-- the same schema-wide advisory lock, so positions are still handed out in commit order (docs/event-feed.md). A
-- transaction whose event inserts inserted no row gets no position. Older code can still read and write.
-- (Every statement of this file may run again, as the migration tests do.)

-- Marks of the transactions in flight that inserted events: a row lives from the transaction's first event insert
-- to its commit (the deferred trigger deletes it), so the table is empty between transactions. Unlogged: a crash
-- ends every transaction that could have a mark.
CREATE UNLOGGED TABLE IF NOT EXISTS {{schema}}.feed_marks (xid xid8 PRIMARY KEY);

CREATE OR REPLACE FUNCTION {{schema}}.event_feed_mark() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  setting text := 'cairn.feed_' || TG_TABLE_SCHEMA;
BEGIN
  IF current_setting(setting, true) IS DISTINCT FROM pg_current_xact_id()::text THEN
    PERFORM set_config(setting, pg_current_xact_id()::text, true);
    INSERT INTO {{schema}}.feed_marks (xid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION {{schema}}.event_feed_commit_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {{schema}}.feed_marks WHERE xid = NEW.xid;
  IF EXISTS (SELECT 1 FROM {{schema}}.events WHERE xid = NEW.xid) THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('cairn-feed:' || TG_TABLE_SCHEMA, 0));
    INSERT INTO {{schema}}.event_commits (xid) VALUES (NEW.xid) ON CONFLICT (xid) DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS events_feed ON {{schema}}.events;
DROP FUNCTION IF EXISTS {{schema}}.event_feed_commit();
DROP TRIGGER IF EXISTS events_feed_mark ON {{schema}}.events;
CREATE TRIGGER events_feed_mark BEFORE INSERT ON {{schema}}.events FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.event_feed_mark();
DROP TRIGGER IF EXISTS feed_marks_commit ON {{schema}}.feed_marks;
CREATE CONSTRAINT TRIGGER feed_marks_commit AFTER INSERT ON {{schema}}.feed_marks
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {{schema}}.event_feed_commit_mark();
