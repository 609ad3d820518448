-- Steps of live runs waiting for a signal, by the signal's name: what signalWaiting (an emitted event waking the runs
-- that wait for it) reads, at a cost in proportion to the steps that wait for that name. Index only. The CASEs keep a
-- damaged (non-JSON) state writable, so corruption is reported on read as before instead of failing the write.
CREATE INDEX steps_waiting ON steps ((CASE WHEN json_valid(state) THEN json_extract(state, '$.waiting.name') END))
  WHERE status = 'scheduled' AND run_live = 1 AND (CASE WHEN json_valid(state) THEN json_extract(state, '$.waiting.kind') = 'event' ELSE 0 END);
