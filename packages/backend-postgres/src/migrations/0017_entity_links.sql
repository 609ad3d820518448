-- The reverse index of entity links (StepLinked events, from ctx.link): "which runs and steps touched transaction:tx_123"
-- is one range of a partial expression index over the events table, so nothing else is written per link. A StepLinked
-- body never holds a \u0000 escape (its schema refuses NUL), so ->> can always read it. An index only.
CREATE INDEX IF NOT EXISTS events_links_by_entity_idx ON {{schema}}.events ((body ->> 'entityType'), (body ->> 'entityId'), timestamp_us)
  WHERE type = 'StepLinked';
