import { countGate, foldWithFollowUp } from "@cairn/backend-interface";
import type {
  Event,
  EventOf,
  FollowUp,
  GateQuery,
  RunState,
  StepState,
  SubmissionResult,
} from "@cairn/backend-interface";
import type { Statement } from "./postgres-connection.js";
import type { ManySqlQueries } from "./postgres-many-sql.js";
import { projectFolded, type ProjectedWrite } from "./postgres-projections.js";
import type { WriteContext } from "./postgres-writes.js";
import { gateLockKey } from "./postgres-gates.js";

/** A gate of the batch read with more live runs than this is decided one transaction per item instead. */
export const GATE_READ_CAP = 500;

/** A run of a gate, as countGate needs it. */
type GateRun = {
  runId: string;
  workflowSlug: string;
  flowKey?: string;
  status: string;
  priority: number;
  createdAtUs: number;
  availableAtUs: number;
  startedAtUs?: number;
};

/**
 * Gated submissions in one transaction, decided set-wise with the reference count: the batch's gates are locked (in
 * one order, so two batches never deadlock), each gate's live runs (and the starts a rate limit counts) are read
 * once, and every item is decided in order by the follow-up on `countGate` over those runs plus the batch's earlier
 * items, exactly as one transaction per item would decide it. Then all rows go in with the submitMany statement.
 *
 * Returns null, having written nothing, when the per-item path must decide: a gate has more than GATE_READ_CAP live
 * runs, or an item's run id or idempotency key is taken (then an earlier decision may have counted a run that is not
 * inserted). Items flow control may refuse are never here (the Backend writes them one by one). `queries` are the gate
 * queries the follow-up asks for after each item's RunSubmitted (foldWithFollowUp's gateQuery), in item order.
 */
export async function writeGatedSubmissions(
  ctx: WriteContext,
  mq: ManySqlQueries,
  submitted: Array<EventOf<"RunSubmitted">>,
  queries: Array<GateQuery | null>,
  follow: FollowUp,
  statementOf: (items: Array<{ events: Event[]; projected: ProjectedWrite }>) => Statement,
): Promise<SubmissionResult[] | null> {
  const gates = new Map<string, { workflowSlug: string; flowKey: string }>();
  let since: number | null = null;
  for (const q of queries) {
    if (!q) continue;
    gates.set(gateLockKey(ctx.schema, q.workflowSlug, q.flowKey), { workflowSlug: q.workflowSlug, flowKey: q.flowKey });
    if (q.startedSinceUs !== undefined) since = since === null ? q.startedSinceUs : Math.min(since, q.startedSinceUs);
  }
  const ids = new Set(submitted.map((s) => s.runId));
  if (ids.size !== submitted.length) return null; // the same run id twice: the second is answered as the first
  return ctx.conn
    .tx(async (c): Promise<SubmissionResult[] | null> => {
      await c.query({ name: `${ctx.schema}:lockGates`, text: ctx.g.lockGates, values: [[...gates.keys()]] });
      const taken = await c.query({
        name: `${ctx.schema}:existingRuns`,
        text: mq.existingRuns,
        values: [
          submitted.map((s) => s.workflowSlug),
          submitted.map((s) => s.idempotencyKey ?? null),
          submitted.map((s) => s.runId),
        ],
      });
      if (taken.rows.length > 0) return null;
      const list = [...gates.values()];
      const rows = (
        await c.query<{
          run_id: string;
          workflow_slug: string;
          flow_key: string;
          status: string;
          priority: number;
          created_at_us: string;
          available_at_us: string;
          started_at_us: string | null;
        }>({
          name: `${ctx.schema}:gateRunsOf`,
          text: ctx.g.gateRunsOf,
          values: [list.map((g) => g.workflowSlug), list.map((g) => g.flowKey), since, GATE_READ_CAP * list.length + 1],
        })
      ).rows;
      const byGate = new Map<string, GateRun[]>(
        list.map((g) => [gateLockKey(ctx.schema, g.workflowSlug, g.flowKey), []]),
      );
      for (const r of rows) {
        byGate.get(gateLockKey(ctx.schema, r.workflow_slug, r.flow_key))!.push({
          runId: r.run_id,
          workflowSlug: r.workflow_slug,
          flowKey: r.flow_key,
          status: r.status,
          priority: r.priority,
          createdAtUs: Number(r.created_at_us),
          availableAtUs: Number(r.available_at_us),
          ...(r.started_at_us === null ? {} : { startedAtUs: Number(r.started_at_us) }),
        });
      }
      if (rows.length > GATE_READ_CAP * list.length || [...byGate.values()].some((g) => g.length > GATE_READ_CAP))
        return null;
      const none = new Map<string, StepState>();
      const prepared = submitted.map((s, i) => {
        const q = queries[i];
        const runs = q ? byGate.get(gateLockKey(ctx.schema, q.workflowSlug, q.flowKey))! : null;
        const f = foldWithFollowUp(null, none, [s], follow, (gq: GateQuery) => countGate(gq, runs ?? []));
        const events = f.events;
        const projected = projectFolded(null, f.run, f.steps, events);
        const run = projected.run as RunState;
        runs?.push({ ...run, ...(run.flowKey === undefined ? {} : { flowKey: run.flowKey }) });
        return { events, projected };
      });
      const row = (
        await c.query<{ inserted: string[]; steps_inserted: number; paused_workflows: string[] }>(statementOf(prepared))
      ).rows[0]!;
      const expectedSteps = prepared.reduce((n, p) => n + p.projected.steps.size, 0);
      // A run id or key taken since the check, or step rows written before the run: let the per-item path decide.
      if (row.inserted.length !== prepared.length || row.steps_inserted !== expectedSteps)
        throw new GatedBatchFallback();
      const paused = new Set(row.paused_workflows);
      return submitted.map((s): SubmissionResult => ({
        created: true,
        runId: s.runId,
        workflowPaused: paused.has(s.workflowSlug),
      }));
    })
    .catch((err: unknown) => {
      if (err instanceof GatedBatchFallback) return null;
      throw err;
    });
}

/** Thrown inside the transaction to roll it back and take the per-item path. */
class GatedBatchFallback extends Error {}
