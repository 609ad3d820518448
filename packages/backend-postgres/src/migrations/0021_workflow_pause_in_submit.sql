-- A submission reads its workflow's pause inside its own statement, serialised with the writes of the pause mark
-- (docs/waits-and-signals.md). Every registration write (putWorkflow, which sets and clears the mark) holds the
-- workflow's advisory lock exclusively until it commits; a submit statement calls this function, which takes the same
-- lock shared, held until the submit commits, and only then reads the registration, with a snapshot of its own (a
-- volatile function's query does not see the calling statement's snapshot). So either the submit commits before the
-- mark (and pauseWorkflow's scan after the mark finds its runs) or it reads the mark. The lock's key is the caller's
-- (schema and slug). Older code writes registrations without the lock: while it runs beside this code, a submission
-- racing a pause made by the older code is settled only by the older code's rules. (May run again, as the migration
-- tests do.)
CREATE OR REPLACE FUNCTION {{schema}}.workflow_paused(lock_key text, wf text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended(lock_key, 0));
  RETURN EXISTS (SELECT 1 FROM {{schema}}.workflows WHERE slug = wf AND registration -> 'paused' IS NOT NULL);
END $$;
