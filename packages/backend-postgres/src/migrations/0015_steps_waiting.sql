-- Steps of live runs waiting for a signal, by the signal's name: what signalWaiting (an emitted event waking the runs
-- that wait for it) reads, at a cost in proportion to the steps that wait for that name. Index only. A state holding
-- \u0000 (which json operators cannot read) is left out of the index rather than failing its write.
CREATE INDEX IF NOT EXISTS steps_waiting_idx ON {{schema}}.steps ((CASE WHEN strpos(state::text, '\u0000') > 0 THEN NULL ELSE state -> 'waiting' ->> 'name' END))
  WHERE status = 'scheduled' AND run_live AND (CASE WHEN strpos(state::text, '\u0000') > 0 THEN false ELSE (state -> 'waiting' ->> 'kind') = 'event' END);
