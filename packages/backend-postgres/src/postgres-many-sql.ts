import { touchWorkersSql } from "./postgres-workers-sql.js";

/**
 * The set-based statements of the engine's batch paths (batch completions, batch submissions): every row carries its
 * run, so one statement serves any number of runs. The rows written are computed in JavaScript by the pure reducers
 * (postgres-projections.ts); these statements only store them. Columns come as arrays zipped by ROWS FROM, except
 * the documents (event bodies, run and step states), which come as one json array each (see documents() in
 * postgres-many.ts): json_array_elements keeps each element's text as sent. It is wrapped in unnest(ARRAY(...)) for
 * the planner: a bare set-returning function is estimated at 100 rows, which beats the exact counts of the other
 * columns' arrays and turned the completion batch's step updates into hash joins over the whole steps table (the
 * 5-step chain drain ran at two thirds of its speed); unnest of a computed array is estimated at 10.
 */
/** The column of documents sent as parameter $n (one json array; see above). */
const documentsColumn = (n: number) => `unnest(ARRAY(SELECT json_array_elements($${n}::json)))`;

export function manySqlQueries(s: string) {
  return {
    /** Runs and every step row of them, locked in run-id order (two batches never deadlock on each other). */
    lockRuns: `WITH r AS (SELECT run_id, workflow_slug, state FROM ${s}.runs WHERE run_id = ANY($1::text[]) ORDER BY run_id FOR UPDATE),
      st AS (SELECT s.run_id, s.step_id, s.state FROM ${s}.steps s WHERE s.run_id = ANY($1::text[]) ORDER BY s.run_id, s.step_id FOR UPDATE)
      SELECT run_id, NULL::text AS step_id, workflow_slug, state FROM r UNION ALL SELECT run_id, step_id, NULL, state FROM st`,
    /** New runs, each unless its id or (workflow, idempotency key) exists; returns the ids inserted. */
    insertRuns: `INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, idempotency_key, tags, state)
      SELECT u.run_id, u.slug, u.status, u.live, u.available_at_us, u.priority, u.created_at_us, u.idem,
        ARRAY(SELECT json_array_elements_text(u.tags)), u.state
      FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::integer[], $7::bigint[], $8::text[], $9::json[], $10::json[])
        WITH ORDINALITY AS u(run_id, slug, status, live, available_at_us, priority, created_at_us, idem, tags, state, ord)
      ORDER BY u.ord
      ON CONFLICT DO NOTHING RETURNING run_id`,
    /**
     * Submissions in ONE autocommitted statement: the new runs (unless their id or (workflow, idempotency key)
     * exists, or step rows of that run id were written before it: the caller takes the transactional path for those),
     * then the events and step rows of exactly the runs inserted, and one NOTIFY. Returns the ids inserted, and which
     * of the items' workflows are paused, read under their pause locks (0021_workflow_pause_in_submit) held to commit.
     */
    submitMany: `WITH ru AS (
        INSERT INTO ${s}.runs (run_id, workflow_slug, status, live, available_at_us, priority, created_at_us, idempotency_key, tags, state)
        SELECT u.run_id, u.slug, u.status, u.live, u.available_at_us, u.priority, u.created_at_us, u.idem, ARRAY(SELECT json_array_elements_text(u.tags)), u.state
        FROM ROWS FROM (
            unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::boolean[]),
            unnest($5::bigint[]), unnest($6::integer[]), unnest($7::bigint[]), unnest($8::text[]),
            unnest($9::json[]), ${documentsColumn(10)}
          )
          WITH ORDINALITY AS u(run_id, slug, status, live, available_at_us, priority, created_at_us, idem, tags, state, ord)
        WHERE NOT EXISTS (SELECT 1 FROM ${s}.steps x WHERE x.run_id = u.run_id)
        ORDER BY u.ord
        ON CONFLICT DO NOTHING RETURNING run_id),
      ev AS (
        INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency)
        SELECT e.event_id, e.slug, e.run_id, e.step_id, e.type, e.ts, e.body, e.duration_us, e.terminal, e.copied, e.attempt_number, e.available_at_us, e.worker_id, e.reason, e.worker_concurrency
        FROM ROWS FROM (
            unnest($11::text[]), unnest($12::text[]), unnest($13::text[]), unnest($14::text[]),
            unnest($15::text[]), unnest($16::bigint[]), ${documentsColumn(17)}, unnest($18::bigint[]),
            unnest($19::boolean[]), unnest($20::boolean[]), unnest($21::integer[]), unnest($22::bigint[]),
            unnest($23::text[]), unnest($24::text[]), unnest($25::integer[])
          )
          WITH ORDINALITY AS e(run_id, slug, event_id, step_id, type, ts, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency, ord)
        WHERE e.run_id IN (SELECT run_id FROM ru)
        ORDER BY e.ord
        RETURNING seq, run_id, step_id),
      si AS (
        INSERT INTO ${s}.steps (run_id, workflow_slug, step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, created_at_us, first_seq, state)
        SELECT u.run_id, u.slug, u.step_id, u.status, u.run_live, u.available_at_us, u.priority, u.attempt_number, u.last_seen_us, u.created_at_us, f.first_seq, u.state
        FROM ROWS FROM (
            unnest($26::text[]), unnest($27::text[]), unnest($28::text[]), unnest($29::text[]),
            unnest($30::boolean[]), unnest($31::bigint[]), unnest($32::integer[]), unnest($33::integer[]),
            unnest($34::bigint[]), unnest($35::bigint[]), ${documentsColumn(36)}
          )
          AS u(run_id, slug, step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, created_at_us, state)
        JOIN (SELECT run_id, step_id, min(seq) AS first_seq FROM ev WHERE step_id IS NOT NULL GROUP BY run_id, step_id) f ON f.run_id = u.run_id AND f.step_id = u.step_id
        ON CONFLICT (run_id, workflow_slug, step_id) DO NOTHING
        RETURNING 1),
      nt AS (SELECT pg_notify($37::text, $38::text) AS x WHERE $37::text IS NOT NULL AND EXISTS (SELECT 1 FROM ru)),
      pz AS MATERIALIZED (SELECT coalesce(array_agg(d.w) FILTER (WHERE ${s}.workflow_paused($39::text || d.w, d.w)), '{}') AS paused
        FROM (SELECT DISTINCT w FROM unnest($2::text[]) AS w) d)
      SELECT (SELECT coalesce(array_agg(run_id), '{}') FROM ru) AS inserted, (SELECT count(*) FROM si)::int AS steps_inserted, (SELECT count(*) FROM nt) AS notified,
        (SELECT paused FROM pz) AS paused_workflows`,
    /** Fresh planner statistics after a bulk submission (the claim's plan depends on them; see writeSubmissionsMany). */
    analyze: `ANALYZE ${s}.steps, ${s}.runs`,
    /** The steps row count the planner's statistics know (-1: never analyzed). */
    stepsKnown: `SELECT reltuples FROM pg_class WHERE oid = '${s}.steps'::regclass`,
    /** The existing run for each (workflow, key, run id) that was not inserted: by key first, else by id. */
    existingRuns: `SELECT u.ord, x.run_id, x.state FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(slug, idem, run_id, ord)
      CROSS JOIN LATERAL (SELECT r.run_id, r.state FROM ${s}.runs r WHERE (r.workflow_slug = u.slug AND r.idempotency_key = u.idem) OR r.run_id = u.run_id
        ORDER BY (r.workflow_slug = u.slug AND r.idempotency_key IS NOT DISTINCT FROM u.idem) DESC LIMIT 1) x`,
    /**
     * Appends events of many runs and stores their projection rows in one statement: runs updated (rows locked
     * before) or inserted, steps updated (locked before) or inserted, liveness propagated to the other step rows of
     * runs whose liveness changed, workers touched, one NOTIFY. Counts let the caller detect a row that appeared
     * concurrently (then it retries the transaction).
     */
    writeMany: `WITH ev AS (
        INSERT INTO ${s}.events (event_id, workflow_slug, run_id, step_id, type, timestamp_us, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency)
        SELECT e.event_id, e.slug, e.run_id, e.step_id, e.type, e.ts, e.body, e.duration_us, e.terminal, e.copied, e.attempt_number, e.available_at_us, e.worker_id, e.reason, e.worker_concurrency
        FROM ROWS FROM (
            unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
            unnest($6::bigint[]), ${documentsColumn(7)}, unnest($8::bigint[]), unnest($9::boolean[]),
            unnest($10::boolean[]), unnest($11::integer[]), unnest($12::bigint[]), unnest($13::text[]),
            unnest($14::text[]), unnest($15::integer[])
          )
          WITH ORDINALITY AS e(run_id, slug, event_id, step_id, type, ts, body, duration_us, terminal, copied, attempt_number, available_at_us, worker_id, reason, worker_concurrency, ord)
        ORDER BY e.ord
        RETURNING seq, run_id, step_id),
      ru AS (
        UPDATE ${s}.runs r SET status = u.status, live = u.live, available_at_us = u.available_at_us, priority = u.priority, created_at_us = u.created_at_us,
          idempotency_key = u.idem, tags = ARRAY(SELECT json_array_elements_text(u.tags)), state = u.state
        FROM ROWS FROM (
            unnest($16::text[]), unnest($17::text[]), unnest($18::boolean[]), unnest($19::bigint[]),
            unnest($20::integer[]), unnest($21::bigint[]), unnest($22::text[]), unnest($23::json[]),
            ${documentsColumn(24)}
          )
          AS u(run_id, status, live, available_at_us, priority, created_at_us, idem, tags, state)
        WHERE r.run_id = u.run_id
        RETURNING 1),
      su AS (
        UPDATE ${s}.steps t SET status = u.status, run_live = u.run_live, available_at_us = u.available_at_us, priority = u.priority,
          attempt_number = u.attempt_number, last_seen_us = u.last_seen_us, state = u.state, version = t.version + 1
        FROM ROWS FROM (
            unnest($25::text[]), unnest($26::text[]), unnest($27::text[]), unnest($28::boolean[]),
            unnest($29::bigint[]), unnest($30::integer[]), unnest($31::integer[]), unnest($32::bigint[]),
            ${documentsColumn(33)}
          )
          AS u(run_id, step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, state)
        WHERE t.run_id = u.run_id AND t.step_id = u.step_id
        RETURNING 1),
      si AS (
        INSERT INTO ${s}.steps (run_id, workflow_slug, step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, created_at_us, first_seq, state)
        SELECT u.run_id, u.slug, u.step_id, u.status, u.run_live, u.available_at_us, u.priority, u.attempt_number, u.last_seen_us, u.created_at_us,
          f.first_seq, u.state
        FROM ROWS FROM (
            unnest($34::text[]), unnest($35::text[]), unnest($36::text[]), unnest($37::text[]),
            unnest($38::boolean[]), unnest($39::bigint[]), unnest($40::integer[]), unnest($41::integer[]),
            unnest($42::bigint[]), unnest($43::bigint[]), ${documentsColumn(44)}
          )
          AS u(run_id, slug, step_id, status, run_live, available_at_us, priority, attempt_number, last_seen_us, created_at_us, state)
        JOIN (SELECT run_id, step_id, min(seq) AS first_seq FROM ev WHERE step_id IS NOT NULL GROUP BY run_id, step_id) f ON f.run_id = u.run_id AND f.step_id = u.step_id
        ON CONFLICT (run_id, workflow_slug, step_id) DO NOTHING
        RETURNING 1),
      lv AS (
        -- = ANY on the key prefix: an index scan of these runs' rows whatever the planner thinks of an unnest join.
        UPDATE ${s}.steps t SET run_live = (t.run_id = ANY($46::text[])), version = t.version + 1
        WHERE t.run_id = ANY($45::text[]) AND t.run_live IS DISTINCT FROM (t.run_id = ANY($46::text[]))
          AND (t.run_id, t.step_id) NOT IN (SELECT w.run_id, w.step_id FROM unnest($25::text[], $26::text[]) AS w(run_id, step_id))
        RETURNING 1),
      wk AS (
        ${touchWorkersSql(s, "unnest($47::text[], $48::bigint[]) AS k(id, ts)")}),
      nt AS (SELECT pg_notify($49::text, $50::text) AS x WHERE $49::text IS NOT NULL)
      SELECT (SELECT count(*) FROM ru)::int AS runs_updated, (SELECT count(*) FROM su)::int AS steps_updated, (SELECT count(*) FROM si)::int AS steps_inserted,
        (SELECT count(*) FROM lv) + (SELECT count(*) FROM wk) + (SELECT count(*) FROM nt) AS side_effects`,
  };
}

/** The statements of postgres-many-sql. */
export type ManySqlQueries = ReturnType<typeof manySqlQueries>;
