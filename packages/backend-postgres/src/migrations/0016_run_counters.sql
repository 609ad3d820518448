-- The counters of a run's state (RunState.counters, from ctx.increment) for the counter analytics in SQL. A state
-- holding a \u0000 escape cannot be read with -> (Postgres text cannot hold NUL), so it is read with a pattern over the
-- raw text instead: counter names and values hold no braces or quotes, and the greedy prefix takes the last
-- top-level "counters" key (metadata, the only object with free keys, is written before it). A function only.
CREATE OR REPLACE FUNCTION {{schema}}.cairn_run_counters(state json) RETURNS json LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN strpos(state::text, '\u0000') = 0 THEN state -> 'counters'
    ELSE substring(state::text FROM '.*"counters":(\{[^{}]*\})')::json END
$$;
