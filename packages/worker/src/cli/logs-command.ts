import { isTerminalRunStatus } from "@cairn/backend-interface";
import { describeRun } from "../client.js";
import { action, defineCommand, intFlag, printJson, withBackend, type CliProgram } from "./command.js";
import { CliNotFoundError, ExitCode } from "./exit-codes.js";
import { onInterrupt } from "./interrupt.js";
import { logLineJson, logLines, renderLogLine } from "./log-lines.js";
import { watchLoop } from "./watch-loop.js";

interface LogsOptions {
  attempt?: string;
  follow?: boolean;
  verbose?: boolean;
  pollMs: string;
}

/** `cairn logs <runId> [step]`: log lines and attempt errors in time order; `--follow` streams them until the run ends. */
export function defineLogsCommand(cli: CliProgram): void {
  defineCommand(cli, "logs", "print a run's log lines and attempt errors in time order (--follow streams them)", [
    "cairn logs run_01JB…",
    "cairn logs run_01JB… transform/clean --attempt 2",
    "cairn logs run_01JB… --follow",
    "cairn logs run_01JB… --json | jq -r '.[].message'",
  ])
    .argument("<runId>", "the run")
    .argument("[stepId]", "only this step")
    .option("--attempt <n>", "only this attempt")
    .option(
      "-f, --follow",
      "keep printing new lines until the run ends (Ctrl-C stops); --json prints one object per line",
    )
    .option("-v, --verbose", "every stack frame of an error (default: the first few)")
    .option("--poll-ms <ms>", "how often --follow reads the run when the backend cannot notify", "500")
    .action(
      action<LogsOptions>(cli, async ([runId, stepId], v, cx) => {
        const attempt = intFlag("attempt", v.attempt, 1);
        const pollMs = intFlag("poll-ms", v.pollMs, 10)!;
        return withBackend(v.backend, cx.io, async (backend) => {
          const { run, steps } = await describeRun(backend, runId!);
          if (stepId && !steps.some((s) => s.stepId === stepId)) {
            throw new CliNotFoundError(
              "STEP_NOT_FOUND",
              `Run ${runId} has no step ${JSON.stringify(stepId)}; its steps: ${steps.map((s) => s.stepId).join(", ")}.`,
              { runId, stepId },
            );
          }
          const filter = { ...(stepId ? { stepId } : {}), ...(attempt ? { attempt } : {}) };
          const read = async () =>
            logLines(
              await backend.loadEvents(run.workflowSlug, run.runId, {
                category: "step",
                ...(stepId ? { stepId } : {}),
              }),
              filter,
            );
          if (!v.follow) {
            const lines = await read();
            if (v.json) printJson(cx.io, lines.map(logLineJson));
            else if (lines.length === 0)
              cx.io.stderr(`No log lines${stepId ? ` for step ${stepId}` : ""} in run ${runId}.\n`);
            else for (const l of lines) cx.io.stdout(renderLogLine(l, cx.out, v.verbose));
            return ExitCode.ok;
          }
          const seen = new Set<string>();
          const stop = new AbortController();
          const release = onInterrupt(() => stop.abort());
          let status = run.status;
          try {
            await watchLoop(backend, { pollMs, signal: stop.signal, gone: cx.io.stdoutGone }, async () => {
              // The status is read first: once it is terminal, the events read after it hold every line of the run.
              status = (await backend.getRun(run.runId))?.status ?? status;
              for (const l of await read()) {
                if (seen.has(l.eventId)) continue;
                seen.add(l.eventId);
                cx.io.stdout(v.json ? `${JSON.stringify(logLineJson(l))}\n` : renderLogLine(l, cx.out, v.verbose));
              }
              return isTerminalRunStatus(status);
            });
          } finally {
            release();
          }
          if (!v.json && isTerminalRunStatus(status)) cx.io.stderr(`Run ${run.runId} ${status}.\n`);
          return ExitCode.ok;
        });
      }),
    );
}
