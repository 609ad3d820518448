import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { action, defineCommand, printJson, withBackend, type CliProgram } from "./command.js";
import { ExitCode, UsageError } from "./exit-codes.js";

/** A JSON flag value (or @file), parsed; a UsageError naming the flag (nothing written) when it is not JSON. */
async function readJsonFlag(flag: string, raw: string | undefined, cwd: string): Promise<unknown> {
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith("@")) {
    const file = resolve(cwd, raw.slice(1));
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new UsageError(
        `--${flag} ${raw}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `--${flag} is not valid JSON (${(err as Error).message}). Quote it for the shell, e.g. --${flag} '{"approved":true}', or pass @file.json.`,
    );
  }
}

/** Exactly one of a run id and --workflow, or a UsageError. */
function target(
  runId: string | undefined,
  workflow: string | undefined,
  verb: string,
): { runId: string } | { workflow: string } {
  if (runId !== undefined && workflow !== undefined)
    throw new UsageError(`${verb} takes a run id or --workflow <slug>, not both.`);
  if (runId !== undefined) return { runId };
  if (workflow !== undefined) return { workflow };
  throw new UsageError(`${verb} needs a run id (cairn ${verb} <runId>) or --workflow <slug>.`);
}

/** `cairn pause`, `cairn resume` and `cairn signal`: gate runs and workflows, deliver signals to waiting steps. */
export function defineWaitCommands(cli: CliProgram): void {
  defineCommand(cli, "pause", "pause a run or a whole workflow (nothing new is claimed; running steps finish)", [
    "cairn pause run_01JB…",
    `cairn pause run_01JB… --reason "supplier outage"`,
    "cairn pause --workflow nightly-sync",
  ])
    .argument("[runId]", "the run")
    .option("--workflow <slug>", "pause every live run of the workflow and the runs submitted until it is resumed")
    .option("--reason <text>", "why; recorded with the pause and shown by `cairn run`")
    .action(
      action<{ workflow?: string; reason?: string }>(cli, async ([runId], v, cx) =>
        withBackend(v.backend, cx.io, async (backend) => {
          const t = target(runId, v.workflow, "pause");
          const reason = v.reason === undefined ? {} : { reason: v.reason };
          if ("workflow" in t) {
            const { runs } = await backend.pauseWorkflow(t.workflow, reason);
            if (v.json) printJson(cx.io, { workflow: t.workflow, paused: true, runs });
            else
              cx.io.stdout(
                `Paused workflow ${t.workflow} (${runs} live run${runs === 1 ? "" : "s"}; new runs start paused). Resume with \`cairn resume --workflow ${t.workflow}\`.\n`,
              );
            return ExitCode.ok;
          }
          const { paused } = await backend.pauseRun(t.runId, reason);
          if (v.json) printJson(cx.io, { runId: t.runId, paused: true, changed: paused });
          else
            cx.io.stdout(
              paused
                ? `Paused run ${t.runId}; its running steps finish, nothing new starts. Resume with \`cairn resume ${t.runId}\`.\n`
                : `Run ${t.runId} was already paused.\n`,
            );
          return ExitCode.ok;
        }),
      ),
    );

  defineCommand(
    cli,
    "resume",
    "resume a paused run (optionally patching the state steps read as ctx.state) or workflow",
    [
      "cairn resume run_01JB…",
      `cairn resume run_01JB… --patch '{"approved":true}'`,
      "cairn resume --workflow nightly-sync",
    ],
  )
    .argument("[runId]", "the run")
    .option("--workflow <slug>", "resume the workflow and the runs its pause held")
    .option("--patch <json|@file>", "a JSON object merged into the run's state (ctx.state)")
    .action(
      action<{ workflow?: string; patch?: string }>(cli, async ([runId], v, cx) => {
        const t = target(runId, v.workflow, "resume");
        const patch = await readJsonFlag("patch", v.patch, cx.io.cwd);
        if (patch !== undefined && (typeof patch !== "object" || patch === null || Array.isArray(patch)))
          throw new UsageError(`--patch must be a JSON object such as '{"approved":true}'.`);
        if ("workflow" in t && patch !== undefined)
          throw new UsageError("--patch applies to one run: cairn resume <runId> --patch <json>.");
        return withBackend(v.backend, cx.io, async (backend) => {
          if ("workflow" in t) {
            const { runs } = await backend.resumeWorkflow(t.workflow);
            if (v.json) printJson(cx.io, { workflow: t.workflow, resumed: true, runs });
            else cx.io.stdout(`Resumed workflow ${t.workflow} (${runs} run${runs === 1 ? "" : "s"} released).\n`);
            return ExitCode.ok;
          }
          const { resumed } = await backend.resumeRun(
            t.runId,
            patch === undefined ? {} : { patch: patch as Record<string, unknown> },
          );
          if (v.json) printJson(cx.io, { runId: t.runId, resumed, patched: patch !== undefined });
          else
            cx.io.stdout(
              resumed
                ? `Resumed run ${t.runId}${patch === undefined ? "" : " with the patch"}.\n`
                : patch !== undefined
                  ? `Run ${t.runId} was not paused; the patch was merged into its state.\n`
                  : `Run ${t.runId} was not paused; nothing changed.\n`,
            );
          return ExitCode.ok;
        });
      }),
    );

  defineCommand(cli, "signal", "send a signal to a run (buffered until a step's ctx.waitForEvent takes it)", [
    `cairn signal run_01JB… approval --payload '{"approved":true,"by":"ann"}'`,
    "cairn signal run_01JB… go --id deploy-42",
  ])
    .argument("<runId>", "the run")
    .argument("<name>", "the signal's name (what the step waits for)")
    .option("--payload <json|@file>", "the payload (any JSON; default null)")
    .option("--id <signalId>", "an id that makes the send idempotent (the same id twice is one signal)")
    .action(
      action<{ payload?: string; id?: string }>(cli, async ([runId, name], v, cx) => {
        const payload = await readJsonFlag("payload", v.payload, cx.io.cwd);
        return withBackend(v.backend, cx.io, async (backend) => {
          const result = await backend.signal(runId!, name!, payload ?? null, v.id === undefined ? {} : { id: v.id });
          if (v.json) printJson(cx.io, { runId, name, ...result });
          else
            cx.io.stdout(
              result.isNew
                ? `Signal ${name} sent to run ${runId} (${result.signalId}).\n`
                : `Signal ${result.signalId} had already been sent to run ${runId}; nothing changed.\n`,
            );
          return ExitCode.ok;
        });
      }),
    );
}
