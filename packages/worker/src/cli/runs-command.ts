import { deserializeValue, type RunStatus } from "@cairn/backend-interface";
import { describeRun } from "../client.js";
import { intFlag, parse, printJson, withBackend, type Command } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { clip, duration, prettyJson, table, time } from "./format.js";

const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];

/** `cairn runs`: lists runs, newest first. */
export const runsCommand: Command = {
  name: "runs",
  summary: "list runs, newest first",
  usage: `cairn runs [--status <s>]... [--workflow <slug>] [--tag <t>]... [--limit <n>] [--json]
  --status   pending, running, completed, failed or cancelled (repeat for several)`,
  async run(args, io) {
    const { values: v } = parse(args, { status: { type: "string", multiple: true }, workflow: { type: "string" }, tag: { type: "string", multiple: true }, limit: { type: "string" } });
    const status = (v.status ?? []).flatMap((s) => s.split(","));
    for (const s of status) if (!STATUSES.includes(s)) throw new UsageError(`Unknown --status ${JSON.stringify(s)}; use ${STATUSES.join(", ")}.`);
    const limit = intFlag("limit", v.limit, 1) ?? 20;
    return withBackend(v.backend, io, async (backend) => {
      const runs = await backend.listRuns({ limit, ...(status.length ? { status: status as RunStatus[] } : {}), ...(v.workflow ? { workflowSlug: v.workflow } : {}), ...(v.tag ? { tags: v.tag } : {}) });
      if (v.json) { printJson(io, runs.map((r) => ({ ...r, input: deserializeValue(r.input), output: deserializeValue(r.output), stateChanges: undefined }))); return ExitCode.ok; }
      if (runs.length === 0) { io.stderr("No runs match. Submit one with `cairn submit <workflow>`.\n"); return ExitCode.ok; }
      io.stdout(`${table(["RUN", "WORKFLOW", "STATUS", "CREATED", "DURATION", "TAGS", "ERROR"], runs.map((r) => [r.runId, r.workflowSlug, r.status, time(r.createdAtUs), duration(r.durationUs), r.tags.join(","), clip(r.error?.message, 50)]))}\n`);
      return ExitCode.ok;
    });
  },
};

/** `cairn run <runId>`: a run and its steps. */
export const runCommand: Command = {
  name: "run",
  summary: "show a run and its steps: status, attempts, durations, errors",
  usage: "cairn run <runId> [--json]",
  async run(args, io) {
    const { values: v, positionals } = parse(args, {});
    const runId = positionals[0];
    if (!runId || positionals.length > 1) throw new UsageError("cairn run needs one run id; list them with `cairn runs`.");
    return withBackend(v.backend, io, async (backend) => {
      const { run, steps } = await describeRun(backend, runId);
      if (v.json) {
        printJson(io, { run: { ...run, input: deserializeValue(run.input), output: deserializeValue(run.output) }, steps: steps.map((s) => ({ ...s, output: deserializeValue(s.output) })) });
        return ExitCode.ok;
      }
      const lines = [
        `run       ${run.runId}`, `workflow  ${run.workflowSlug}${run.versionId ? ` (version ${run.versionId})` : ""}`, `status    ${run.status}${run.failureReason ? ` (${run.failureReason})` : ""}`,
        `created   ${time(run.createdAtUs)}`, ...(run.startedAtUs ? [`started   ${time(run.startedAtUs)}`] : []), ...(run.durationUs !== undefined ? [`duration  ${duration(run.durationUs)}`] : []),
        ...(run.tags.length ? [`tags      ${run.tags.join(", ")}`] : []), ...(run.parentRunId ? [`rerun of  ${run.parentRunId} from ${run.rerunFromStepId}`] : []),
        ...(run.input !== undefined ? [`input     ${clip(run.input, 200)}`] : []),
        ...(run.error ? [`error     ${run.error.message}`] : []),
        ...(run.inputValidation?.validationErrors?.map((e) => `          ${e.path}: ${e.message}`) ?? []),
      ];
      io.stdout(`${lines.join("\n")}\n\n`);
      const byStart = [...steps].sort((a, b) => (a.startTimeUs ?? a.createdAtUs) - (b.startTimeUs ?? b.createdAtUs));
      io.stdout(`${table(["STEP", "STATUS", "ATTEMPTS", "DURATION", "WORKER", "ERROR / NOTE"], byStart.map((s) => [
        s.stepId, s.status, s.attemptNumber, duration(s.durationUs), s.claimedBy ?? "",
        s.status === "skipped" ? clip(s.skipReason, 60) : clip(s.error ? `${s.failureReason ? `[${s.failureReason}] ` : ""}${s.error.message}` : s.wasReclaimed ? `reclaimed from ${s.reclaimedFrom}` : "", 60),
      ]))}\n`);
      if (run.output !== undefined) io.stdout(`\noutput:\n${prettyJson(run.output)}\n`);
      return ExitCode.ok;
    });
  },
};

/** `cairn logs <runId> [step]`: a run's log lines. */
export const logsCommand: Command = {
  name: "logs",
  summary: "print the log lines of a run (or one step)",
  usage: "cairn logs <runId> [stepId] [--attempt <n>] [--json]",
  async run(args, io) {
    const { values: v, positionals } = parse(args, { attempt: { type: "string" } });
    const [runId, stepId] = positionals;
    if (!runId || positionals.length > 2) throw new UsageError("cairn logs needs a run id and optionally a step id.");
    const attempt = intFlag("attempt", v.attempt, 1);
    return withBackend(v.backend, io, async (backend) => {
      const { run, steps } = await describeRun(backend, runId);
      const ids = stepId ? [stepId] : steps.map((s) => s.stepId);
      if (stepId && !steps.some((s) => s.stepId === stepId)) throw new UsageError(`Run ${runId} has no step ${JSON.stringify(stepId)}; its steps: ${steps.map((s) => s.stepId).join(", ")}.`);
      const all = (await Promise.all(ids.map(async (id) => ((await backend.loadStepLogs(run.workflowSlug, runId, id, attempt)) ?? []).map((l) => ({ stepId: id, ...l }))))).flat().sort((a, b) => a.timestampUs - b.timestampUs);
      if (v.json) { printJson(io, all); return ExitCode.ok; }
      if (all.length === 0) io.stderr(`No log lines${stepId ? ` for step ${stepId}` : ""} in run ${runId}.\n`);
      for (const l of all) io.stdout(`${time(l.timestampUs)} ${l.stepId}#${l.attemptNumber} ${l.stream === "stderr" ? "! " : ""}${l.message}\n`);
      return ExitCode.ok;
    });
  },
};
