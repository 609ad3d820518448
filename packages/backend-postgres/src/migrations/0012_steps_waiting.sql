-- Steps of live runs waiting for a signal, by the signal's name: what signalWaiting (an emitted event waking the runs
-- that wait for it) reads, at a cost in proportion to the steps that wait for that name. Index only.
CREATE INDEX IF NOT EXISTS steps_waiting_idx ON {{schema}}.steps ((state -> 'waiting' ->> 'name'))
  WHERE status = 'scheduled' AND run_live AND (state -> 'waiting' ->> 'kind') = 'event';
