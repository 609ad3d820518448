-- Retention: ended runs of a status in the order they ended, so deleting old runs reads only the runs it deletes.
-- An index only: older code can still read and write.
CREATE INDEX runs_ended ON runs (status, json_extract(state, '$.endedAtUs'), run_id) WHERE live = 0;
