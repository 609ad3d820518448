import {
  assertTenantId,
  deserializeValue,
  parseEntityRef,
  type Backend,
  type RunState,
  type RunStatus,
  type StepLink,
} from "@cairn/backend-interface";
import {
  action,
  collect,
  collectList,
  defineCommand,
  durationMsFlag,
  intFlag,
  printJson,
  withBackend,
  type CliContext,
  type CliProgram,
} from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { clip, duration, time, waitLabel } from "./format.js";
import { onInterrupt } from "./interrupt.js";
import { statusColor } from "./styles.js";
import { renderTable } from "./table.js";
import { CLEAR, watchLoop } from "./watch-loop.js";

const STATUSES = ["pending", "running", "completed", "failed", "cancelled", "waiting"];

interface RunsOptions {
  status?: string[];
  workflow?: string;
  tag?: string[];
  limit: string;
  watch?: boolean;
  interval: string;
  entity?: string;
  tenant?: string;
}

/** `cairn runs`: lists runs, newest first; `--watch` refreshes the list until Ctrl-C. */
export function defineRunsCommand(cli: CliProgram): void {
  defineCommand(cli, "runs", "list runs, newest first", [
    "cairn runs",
    "cairn runs --status failed --workflow etl",
    "cairn runs --status pending,running --watch",
    "cairn runs --entity transaction:tx_123",
    "cairn runs --tenant acme",
    "cairn runs --json | jq '.[].runId'",
  ])
    .option(
      "--entity <type:id>",
      "only runs whose steps touched this entity (ctx.link), newest link first, with the steps that did",
    )
    .option(
      "--status <status>",
      `only runs in this status: ${STATUSES.join(", ")} (repeat or comma-separate for several)`,
      collectList,
    )
    .option("--workflow <slug>", "only runs of this workflow")
    .option("--tag <tag>", "only runs with this tag (repeat for several)", collect)
    .option("--tenant <id>", "only runs of this tenant (submitted with --tenant or a tenant-scoped client)")
    .option("--limit <n>", "at most this many runs", "20")
    .option("--watch", "refresh the list until Ctrl-C")
    .option("--interval <duration>", "how often --watch refreshes (e.g. 500ms, 2s)", "2s")
    .action(
      action<RunsOptions>(cli, async (_args, v, cx) => {
        const status = v.status ?? [];
        for (const s of status)
          if (!STATUSES.includes(s))
            throw new UsageError(`Unknown --status ${JSON.stringify(s)}; use ${STATUSES.join(", ")}.`);
        const limit = intFlag("limit", v.limit, 1)!;
        const intervalMs = durationMsFlag("interval", v.interval)!;
        if (intervalMs < 100)
          throw new UsageError(`--interval must be at least 100ms, got ${JSON.stringify(v.interval)}.`);
        const filter = {
          limit,
          ...(status.length ? { status: status as RunStatus[] } : {}),
          ...(v.workflow ? { workflowSlug: v.workflow } : {}),
          ...(v.tag ? { tags: v.tag } : {}),
          ...(v.tenant !== undefined ? { tenantId: v.tenant } : {}),
        };
        if (v.tenant !== undefined) assertTenantId(v.tenant, "--tenant");
        if (status.includes("waiting") && status.length > 1)
          throw new UsageError(
            "--status waiting lists running runs that wait (a sleep, a signal, a poll); it cannot be combined with other statuses.",
          );
        const entity = v.entity === undefined ? undefined : parseEntityRef(v.entity);
        if (entity && v.watch) throw new UsageError("--entity and --watch cannot be combined.");
        return withBackend(v.backend, cx.io, async (backend) => {
          if (entity) return listTouching(backend, entity, filter, v.json === true, cx);
          if (status.includes("waiting"))
            return listWaiting(
              backend,
              { limit, ...(v.workflow ? { workflowSlug: v.workflow } : {}) },
              v.tag ?? [],
              v.json === true,
              cx,
              v.tenant,
            );
          if (!v.watch) {
            const runs = await backend.listRuns(filter);
            if (v.json) printJson(cx.io, runs.map(runJson));
            else if (runs.length === 0) cx.io.stderr("No runs match. Submit one with `cairn submit <workflow>`.\n");
            else cx.io.stdout(`${renderRuns(runs, cx, backend)}\n`);
            return ExitCode.ok;
          }
          return watchRuns(backend, filter, intervalMs, v.json === true, cx);
        });
      }),
    );
}

/** Redraws the list every interval (on a terminal), or prints it again when it changed (into a pipe), until Ctrl-C. */
async function watchRuns(
  backend: Backend,
  filter: Parameters<Backend["listRuns"]>[0],
  intervalMs: number,
  json: boolean,
  cx: CliContext,
): Promise<ExitCode> {
  const stop = new AbortController();
  const release = onInterrupt(() => stop.abort());
  let last = "";
  try {
    await watchLoop(backend, { pollMs: intervalMs, signal: stop.signal, gone: cx.io.stdoutGone }, async () => {
      const runs = await backend.listRuns(filter);
      const key = JSON.stringify(runs);
      const page = () =>
        `${time(backend.clock.nowUs())}  ${runs.length} run${runs.length === 1 ? "" : "s"}, refreshing every ${duration(intervalMs * 1000)} (Ctrl-C stops)\n${runs.length ? `${renderRuns(runs, cx, backend)}\n` : ""}`;
      if (json) {
        if (key !== last) cx.io.stdout(`${JSON.stringify(runs.map(runJson))}\n`);
      } else if (cx.columns !== undefined) cx.io.stdout(`${CLEAR}${page()}`);
      else if (key !== last) cx.io.stdout(`${page()}\n`);
      last = key;
      return false;
    });
  } finally {
    release();
  }
  return ExitCode.ok;
}

/** `runs --entity`: the runs whose steps touched the entity (in the order of their newest link), filtered like the list. */
async function listTouching(
  backend: Backend,
  entity: { entityType: string; entityId: string },
  filter: Parameters<Backend["listRuns"]>[0] & {},
  json: boolean,
  cx: CliContext,
): Promise<ExitCode> {
  const links = await backend.findEntityLinks({ ...entity, limit: 1000 });
  const byRun = new Map<string, StepLink[]>();
  for (const l of links) byRun.set(l.runId, [...(byRun.get(l.runId) ?? []), l]);
  const runs = (await Promise.all([...byRun.keys()].map((id) => backend.getRun(id))))
    .filter(
      (r): r is RunState =>
        r !== null &&
        (!filter.status || filter.status.includes(r.status)) &&
        (!filter.workflowSlug || r.workflowSlug === filter.workflowSlug) &&
        (!filter.tags || filter.tags.every((t) => r.tags.includes(t))) &&
        (filter.tenantId === undefined || r.tenantId === filter.tenantId),
    )
    .slice(0, filter.limit);
  if (json)
    printJson(
      cx.io,
      runs.map((r) => ({ ...(runJson(r) as object), touchedBy: byRun.get(r.runId) })),
    );
  else if (runs.length === 0) cx.io.stderr(`No run touched ${entity.entityType}:${entity.entityId}.\n`);
  else {
    const touched = (r: RunState) =>
      [...new Set((byRun.get(r.runId) ?? []).map((l) => `${l.stepId} (${l.linkType})`))].join(", ");
    cx.io.stdout(
      `${renderTable(
        ["RUN", "WORKFLOW", "STATUS", "CREATED", "TOUCHED BY"],
        runs.map((r) => [r.runId, r.workflowSlug, statusColor(cx.out, r.status), time(r.createdAtUs), touched(r)]),
        { columns: cx.columns, shrink: [4, 0] },
      )}\n`,
    );
  }
  return ExitCode.ok;
}

function renderRuns(runs: RunState[], cx: CliContext, backend: Backend): string {
  const now = backend.clock.nowUs();
  return renderTable(
    ["RUN", "WORKFLOW", "STATUS", "CREATED", "DURATION", "TAGS", "ERROR"],
    runs.map((r) => [
      r.runId,
      `${r.workflowSlug}${r.tracked ? " (tracked)" : ""}${r.trigger ? ` by ${r.trigger}` : ""}`,
      statusColor(cx.out, r.status),
      time(r.createdAtUs),
      duration(r.durationUs ?? (r.status === "running" && r.startedAtUs ? now - r.startedAtUs : undefined)),
      r.tags.join(","),
      clip(r.error?.message, 200),
    ]),
    { columns: cx.columns, shrink: [6, 5, 1], optional: [5, 6, 4, 3] },
  );
}

/** `--status waiting`: running runs with no step running or ready and a step waiting, with what it waits for and until when. */
async function listWaiting(
  backend: Backend,
  options: { limit: number; workflowSlug?: string },
  tags: string[],
  json: boolean,
  cx: CliContext,
  tenantId?: string,
): Promise<ExitCode> {
  const waiting = (await backend.listWaitingRuns(options)).filter(
    (w) => tags.every((t) => w.run.tags.includes(t)) && (tenantId === undefined || w.run.tenantId === tenantId),
  );
  if (json)
    printJson(
      cx.io,
      waiting.map((w) => ({
        ...(runJson(w.run) as object),
        status: "waiting",
        waitingStep: w.step.stepId,
        waiting: w.step.waiting,
      })),
    );
  else if (waiting.length === 0) cx.io.stderr("No run is waiting.\n");
  else
    cx.io.stdout(
      `${renderTable(
        ["RUN", "WORKFLOW", "STATUS", "CREATED", "STEP", "WAITS FOR", "UNTIL"],
        waiting.map((w) => [
          w.run.runId,
          w.run.workflowSlug,
          statusColor(cx.out, "waiting"),
          time(w.run.createdAtUs),
          w.step.stepId,
          waitLabel(w.step.waiting),
          w.step.waiting.untilUs === undefined ? "a signal" : time(w.step.waiting.untilUs),
        ]),
        { columns: cx.columns, shrink: [6, 5], optional: [3, 6] },
      )}\n`,
    );
  return ExitCode.ok;
}

function runJson(r: RunState): unknown {
  return { ...r, input: deserializeValue(r.input), output: deserializeValue(r.output), stateChanges: undefined };
}
