import {
  callRecordOf,
  childStepOf,
  isTerminalRunStatus,
  stepLinkOf,
  type Backend,
  type EventOf,
} from "@cairn/backend-interface";
import { describeRun } from "../client.js";
import { foldAttempts } from "./attempts.js";
import { action, defineCommand, intFlag, printJson, withBackend, type CliProgram } from "./command.js";
import { ExitCode } from "./exit-codes.js";
import { onInterrupt } from "./interrupt.js";
import { renderRun, runJson, type RunView } from "./run-view.js";
import { runUsageOf } from "./run-calls-view.js";
import { CLEAR, watchLoop } from "./watch-loop.js";

/** A run, its steps and their attempts (read through the public Backend API: the run, its steps, its step events). */
export async function loadRunView(backend: Backend, runId: string): Promise<RunView> {
  const { run, steps } = await describeRun(backend, runId);
  const events = await backend.loadEvents(run.workflowSlug, runId, { category: "step" });
  const calls = events.filter((e): e is EventOf<"StepCall"> => e.type === "StepCall").map(callRecordOf);
  const links = events.filter((e): e is EventOf<"StepLinked"> => e.type === "StepLinked").map(stepLinkOf);
  const children = events.filter((e): e is EventOf<"StepChild"> => e.type === "StepChild").map(childStepOf);
  return { run, steps, attempts: foldAttempts(events), calls, children, links, usage: runUsageOf(runId, events) };
}

/** `cairn run <runId>`: a run and every step's attempts (worker, start, duration, outcome, errors with their stack). */
export function defineRunCommand(cli: CliProgram): void {
  defineCommand(
    cli,
    "run",
    "show a run and each step's attempts (worker, start, duration, outcome, errors with their stack), its calls and AI usage",
    [
      "cairn run run_01JB…",
      "cairn run run_01JB… --verbose      # every stack frame",
      "cairn run run_01JB… --watch        # redraw until the run ends",
      "cairn run run_01JB… --json | jq '.steps[].attempts'",
    ],
  )
    .argument("<runId>", "the run (list them with `cairn runs`)")
    .option("-v, --verbose", "show every stack frame of failed attempts (default: the first few)")
    .option("-w, --watch", "redraw as the run goes on (progress included) until it ends")
    .option("--poll-ms <ms>", "how often --watch reads the run when the backend cannot notify", "500")
    .action(
      action<{ verbose?: boolean; watch?: boolean; pollMs: string }>(cli, async ([runId], v, cx) =>
        withBackend(v.backend, cx.io, async (backend) => {
          const draw = (view: RunView) =>
            renderRun(view, { styles: cx.out, columns: cx.columns, nowUs: backend.clock.nowUs(), verbose: v.verbose });
          if (!v.watch) {
            const view = await loadRunView(backend, runId!);
            if (v.json) printJson(cx.io, runJson(view));
            else cx.io.stdout(draw(view));
            return ExitCode.ok;
          }
          const stop = new AbortController();
          const release = onInterrupt(() => stop.abort());
          let last = "";
          try {
            await watchLoop(
              backend,
              { pollMs: intFlag("poll-ms", v.pollMs, 10)!, signal: stop.signal, gone: cx.io.stdoutGone },
              async () => {
                const view = await loadRunView(backend, runId!);
                const key = JSON.stringify(runJson(view));
                // A terminal redraws every tick (running durations grow); a pipe gets a new page only when the run changed.
                if (cx.columns !== undefined && !v.json) cx.io.stdout(`${CLEAR}${draw(view)}`);
                else if (key !== last) cx.io.stdout(v.json ? `${key}\n` : `${draw(view)}\n`);
                last = key;
                return isTerminalRunStatus(view.run.status);
              },
            );
          } finally {
            release();
          }
          return ExitCode.ok; // a viewer: stopping it with Ctrl-C is how it is used
        }),
      ),
    );
}
