import pg from "pg";
import { PostgresAnalyticsSql } from "../src/postgres-analytics-sql.js";
const c = new pg.Client("postgres://root@127.0.0.1:5432/test"); await c.connect();
const agg = new PostgresAnalyticsSql(null as never, '"scale_keep"', "64MB");
const sel = (a?: string) => agg.selection(1, a);
const s = '"scale_keep"';
const which = process.argv[2];
const text = which === "lat2" ? `SELECT count(*) FROM (SELECT type, workflow_slug, step_id, timestamp_us, max(CASE WHEN type = 'StepScheduled' THEN greatest(available_at_us, timestamp_us) END) OVER (PARTITION BY run_id COLLATE "C", step_id COLLATE "C", attempt_number ORDER BY timestamp_us) AS ready FROM ${s}.events WHERE type IN ('StepScheduled', 'StepStarted') AND ${sel()}) x WHERE type = 'StepStarted' AND ready IS NOT NULL` : which === "lat" ? `SELECT count(*) FROM (
        SELECT st.workflow_slug, st.step_id, greatest(0, st.timestamp_us - max(greatest(sc.available_at_us, sc.timestamp_us))) AS v
        FROM ${s}.events st JOIN ${s}.events sc ON sc.type = 'StepScheduled' AND sc.run_id = st.run_id AND sc.step_id = st.step_id
          AND sc.attempt_number = st.attempt_number AND sc.timestamp_us <= st.timestamp_us AND ${sel("sc")}
        WHERE st.type = 'StepStarted' AND ${sel("st")}
        GROUP BY st.seq, st.workflow_slug, st.step_id, st.timestamp_us) x` : `SELECT count(*) FROM (SELECT DISTINCT ON (run_id, step_id, attempt_number) run_id, step_id, attempt_number, worker_id FROM ${s}.events WHERE type = 'StepStarted' AND ${sel()}
        ORDER BY run_id, step_id, attempt_number, timestamp_us, event_id COLLATE "C") x`;
await c.query("SET work_mem = '64MB'");
const r = await c.query("EXPLAIN (ANALYZE) " + text, [0, 1e17, null, null, null]);
console.log(r.rows.map((x: any) => x["QUERY PLAN"]).join("\n"));
await c.end();
