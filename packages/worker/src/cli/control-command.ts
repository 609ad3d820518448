import { action, defineCommand, printJson, withBackend, type CliProgram } from "./command.js";
import { ExitCode } from "./exit-codes.js";
import { readInput } from "./submit-command.js";
import { waitAndReport } from "./wait-run.js";

const WAIT =
  "watch the run until it ends, then print its output (exit 10 if it failed, 11 if cancelled, 130 on Ctrl-C)";
const POLL = "with --wait: how often to read the run when the backend cannot notify";

/** `cairn cancel`, `cairn rerun` and `cairn retry`: the commands that change a run. */
export function defineControlCommands(cli: CliProgram): void {
  defineCommand(cli, "cancel", "cancel a run (running steps are aborted within one heartbeat interval)", [
    "cairn cancel run_01JB…",
    `cairn cancel run_01JB… --reason "wrong input"`,
  ])
    .argument("<runId>", "the run")
    .option("--reason <text>", "why; recorded with the run and shown by `cairn run`")
    .action(
      action<{ reason?: string }>(cli, async ([runId], v, cx) =>
        withBackend(v.backend, cx.io, async (backend) => {
          const before = await backend.getRun(runId!);
          await backend.cancelRun(runId!, v.reason);
          const after = await backend.getRun(runId!);
          const changed = before?.status !== after?.status;
          const reason = after?.cancelReason;
          if (v.json)
            printJson(cx.io, {
              runId,
              status: after?.status,
              cancelled: changed && after?.status === "cancelled",
              ...(reason ? { reason } : {}),
            });
          else if (changed)
            cx.io.stdout(
              `Cancelled run ${runId}${reason ? `: ${reason}` : " (no reason given; --reason records one)"}.\n`,
            );
          else
            cx.io.stdout(
              `Run ${runId} had already ended (${after?.status}${after?.status === "cancelled" && reason ? `: ${reason}` : ""}); nothing changed.\n`,
            );
          return ExitCode.ok;
        }),
      ),
    );

  defineCommand(cli, "rerun", "rerun a run from a step (keeps the results of steps that do not depend on it)", [
    "cairn rerun run_01JB… --from transform/clean",
    `cairn rerun run_01JB… --from load --input '{"rows":10}' --wait`,
  ])
    .argument("<runId>", "the run to rerun")
    .requiredOption("--from <stepId>", "the first step to run again (with every step that depends on it)")
    .option("-i, --input <json|@file>", "a new input for the rerun (default: the parent's)")
    .option("--wait", WAIT)
    .option("--poll-ms <ms>", POLL, "250")
    .action(
      action<{ from: string; input?: string; wait?: boolean; pollMs: string }>(cli, async ([runId], v, cx) => {
        const input = await readInput(v.input, cx.io.cwd);
        return withBackend(v.backend, cx.io, async (backend) => {
          const result = await backend.rerunFrom({
            parentRunId: runId!,
            fromStepId: v.from,
            ...(input === undefined ? {} : { input }),
          });
          if (!v.wait) {
            if (v.json) printJson(cx.io, { parentRunId: runId, ...result });
            else {
              cx.io.stdout(`${result.runId}\n`);
              cx.io.stderr(
                `Rerun ${result.runId} of ${runId} from ${v.from}: re-executes ${result.rerunStepIds.join(", ")}.\n`,
              );
            }
            return ExitCode.ok;
          }
          if (!v.json)
            cx.io.stderr(
              `Rerun ${result.runId} of ${runId} from ${v.from} re-executes ${result.rerunStepIds.join(", ")}; waiting for it to end (Ctrl-C stops waiting).\n`,
            );
          return waitAndReport(backend, result.runId, cx, { json: v.json === true, pollMs: v.pollMs });
        });
      }),
    );

  defineCommand(cli, "retry", "retry a failed run (re-runs its failed and skipped steps, keeps completed results)", [
    "cairn retry run_01JB…",
    `cairn retry run_01JB… --reason "upstream fixed" --wait`,
  ])
    .argument("<runId>", "the failed run")
    .option("--reason <text>", "why; recorded with the retry")
    .option("--wait", WAIT)
    .option("--poll-ms <ms>", POLL, "250")
    .action(
      action<{ reason?: string; wait?: boolean; pollMs: string }>(cli, async ([runId], v, cx) =>
        withBackend(v.backend, cx.io, async (backend) => {
          const result = await backend.retryRun(runId!, v.reason === undefined ? {} : { reason: v.reason });
          if (!v.wait) {
            if (v.json) printJson(cx.io, { runId, ...result });
            else
              cx.io.stdout(
                `Retrying run ${runId} (attempt ${result.workflowAttemptNumber}): ${result.retriedSteps.join(", ") || "no step"} run again.\n`,
              );
            return ExitCode.ok;
          }
          if (!v.json)
            cx.io.stderr(
              `Retrying run ${runId} (attempt ${result.workflowAttemptNumber}): ${result.retriedSteps.join(", ") || "no step"} run again; waiting for it to end (Ctrl-C stops waiting).\n`,
            );
          return waitAndReport(backend, runId!, cx, { json: v.json === true, pollMs: v.pollMs });
        }),
      ),
    );
}
