-- The reverse index of entity links (StepLinked events, from ctx.link): "which runs and steps touched transaction:tx_123"
-- is one range of a partial expression index over the events table, so nothing else is written per link. An index
-- only: older code can still read and write.
CREATE INDEX IF NOT EXISTS events_links_by_entity ON events (json_extract(body, '$.entityType'), json_extract(body, '$.entityId'), timestamp_us)
  WHERE type = 'StepLinked';
