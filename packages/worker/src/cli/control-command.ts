import { parse, printJson, withBackend, type Command } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";
import { readInput } from "./submit-command.js";

/** `cairn cancel <runId>`: cancels a run; its running steps are aborted at their next heartbeat. */
export const cancelCommand: Command = {
  name: "cancel",
  summary: "cancel a run (running steps are aborted within one heartbeat interval)",
  usage: "cairn cancel <runId> [--reason <text>] [--json]",
  async run(args, io) {
    const { values: v, positionals } = parse(args, { reason: { type: "string" } });
    const runId = positionals[0];
    if (!runId || positionals.length > 1) throw new UsageError("cairn cancel needs one run id.");
    return withBackend(v.backend, io, async (backend) => {
      const before = await backend.getRun(runId);
      await backend.cancelRun(runId, v.reason);
      const after = await backend.getRun(runId);
      const changed = before?.status !== after?.status;
      if (v.json) printJson(io, { runId, status: after?.status, cancelled: changed && after?.status === "cancelled" });
      else io.stdout(changed ? `Cancelled run ${runId}.\n` : `Run ${runId} had already ended (${after?.status}); nothing changed.\n`);
      return ExitCode.ok;
    });
  },
};

/** `cairn rerun <runId> --from <step>`: a new run keeping the parent's results before that step. */
export const rerunCommand: Command = {
  name: "rerun",
  summary: "rerun a run from a step (keeps the results of steps that do not depend on it)",
  usage: "cairn rerun <runId> --from <stepId> [--input <json|@file>] [--json]",
  async run(args, io) {
    const { values: v, positionals } = parse(args, { from: { type: "string" }, input: { type: "string" } });
    const runId = positionals[0];
    if (!runId || positionals.length > 1 || !v.from) throw new UsageError("cairn rerun needs a run id and --from <stepId>.");
    const input = await readInput(v.input, io.cwd);
    return withBackend(v.backend, io, async (backend) => {
      const result = await backend.rerunFrom({ parentRunId: runId, fromStepId: v.from!, ...(input === undefined ? {} : { input }) });
      if (v.json) printJson(io, { parentRunId: runId, ...result });
      else { io.stdout(`${result.runId}\n`); io.stderr(`Rerun ${result.runId} of ${runId} from ${v.from}: re-executes ${result.rerunStepIds.join(", ")}.\n`); }
      return ExitCode.ok;
    });
  },
};

/** `cairn retry <runId>`: a failed run runs its failed and skipped steps again, keeping its completed results. */
export const retryCommand: Command = {
  name: "retry",
  summary: "retry a failed run (re-runs its failed and skipped steps, keeps completed results)",
  usage: "cairn retry <runId> [--reason <text>] [--json]",
  async run(args, io) {
    const { values: v, positionals } = parse(args, { reason: { type: "string" } });
    const runId = positionals[0];
    if (!runId || positionals.length > 1) throw new UsageError("cairn retry needs one run id.");
    return withBackend(v.backend, io, async (backend) => {
      const result = await backend.retryRun(runId, v.reason === undefined ? {} : { reason: v.reason });
      if (v.json) printJson(io, { runId, ...result });
      else io.stdout(`Retrying run ${runId} (attempt ${result.workflowAttemptNumber}): ${result.retriedSteps.join(", ") || "no step"} run again.\n`);
      return ExitCode.ok;
    });
  },
};
