import { Command, CommanderError } from "commander";
import { isCairnError, type InvalidInputError } from "@cairn/backend-interface";
import { defineAnalyticsCommand } from "./analytics-command.js";
import { addCommonOptions, type CliIO, type CliProgram } from "./command.js";
import { defineCleanupCommand } from "./cleanup-command.js";
import { defineControlCommands } from "./control-command.js";
import { defineDashboardCommand } from "./dashboard-command.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { defineFeedCommand } from "./feed-command.js";
export { exitWhenFlushed } from "./process-io.js";
import { defineLogsCommand } from "./logs-command.js";
import { defineMigrateCommand } from "./migrate-command.js";
import { usageErrorFrom } from "./parse-errors.js";
import { guardedWriter, streamGone } from "./process-io.js";
import { defineRunCommand } from "./run-command.js";
import { defineRunsCommand } from "./runs-command.js";
import { defineSubmitCommand } from "./submit-command.js";
import { defineWorkerCommand } from "./worker-command.js";
import { defineWorkflowsCommand } from "./workflows-command.js";
import { defineTriggerCommands } from "./trigger-commands.js";
import { defineWaitCommands } from "./wait-commands.js";

const VERSION = "0.1.0";

const FOOTER = `
Exit codes: 0 ok, 1 error, 2 bad usage or an input the workflow's schema rejects, 3 configuration, 4 not found,
5 conflict, 6 bad workflow folders, 7 backend unavailable, 10 run failed, 11 run cancelled, 130 interrupted (Ctrl-C).

Examples:
  $ cairn submit hello --input '{"name":"Ada"}' --wait --workflows examples/workflows
  $ cairn worker --workflows examples/workflows --concurrency 8
  $ cairn runs --status failed
  $ cairn run <runId>
  $ cairn logs <runId> --follow
`;

/** The `cairn` program: every command, output routed to `io`, errors thrown (not exiting) so main() maps them. */
function buildProgram(io: CliIO): CliProgram {
  const program = new Command("cairn")
    .description("cairn: run and inspect event-sourced workflows")
    .version(`cairn ${VERSION}`, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: false })
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: () => {}, // main() prints parse errors in its own words
      getOutHelpWidth: () => Math.min(io.columns ?? 120, 120),
      getErrHelpWidth: () => Math.min(io.columns ?? 120, 120),
    })
    .addHelpText("after", FOOTER);
  const cli: CliProgram = { program, io };
  for (const define of [
    defineWorkerCommand,
    defineSubmitCommand,
    defineRunsCommand,
    defineRunCommand,
    defineLogsCommand,
    defineControlCommands,
    defineWaitCommands,
    defineWorkflowsCommand,
    defineTriggerCommands,
    defineAnalyticsCommand,
    defineMigrateCommand,
    defineCleanupCommand,
    defineDashboardCommand,
    defineFeedCommand,
  ])
    define(cli);
  addCommonOptions(program);
  return cli;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const cli = buildProgram(io);
  const json = argv.includes("--json");
  try {
    await cli.program.parseAsync(argv, { from: "user" });
    return cli.exitCode ?? ExitCode.ok;
  } catch (thrown) {
    let err = thrown;
    const command = commandName(cli.program, argv);
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.ok;
      if (err.code === "commander.help" || err.code === "commander.executeSubCommandAsync") return ExitCode.usage; // help shown for a missing command
      err = usageErrorFrom(err, command);
    }
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    if (json) io.stderr(`${JSON.stringify({ error: errorJson(err, message) })}\n`);
    else io.stderr(`${command}: ${message}\n`);
    if (code === ExitCode.error && io.env.CAIRN_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return code;
  }
}

/** The command the arguments name, as far as they name one: `cairn analytics error`. */
function commandName(program: Command, argv: string[]): string {
  const names = ["cairn"];
  let at = program;
  for (const a of argv) {
    const sub = at.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    names.push(sub.name());
    at = sub;
  }
  return names.join(" ");
}

/** What `--json` prints on stderr for a failed command: the stable code, the message, context fields and, for a rejected input, every failing field. */
function errorJson(err: unknown, message: string): { code: string; message: string; [key: string]: unknown } {
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "ERROR";
  const validationErrors = isCairnError(err, "INVALID_INPUT") ? (err as InvalidInputError).validationErrors : undefined;
  const context = (err as { context?: Record<string, unknown> })?.context;
  return {
    code,
    message,
    ...(context && Object.keys(context).length ? { context } : {}),
    ...(validationErrors ? { validationErrors } : {}),
  };
}

let stdio: { stdout: (t: string) => void; stderr: (t: string) => void } | undefined;

/** The real process's streams and environment. Output to a closed pipe is dropped, never fatal. */
export function defaultIO(): CliIO {
  stdio ??= { stdout: guardedWriter(process.stdout), stderr: guardedWriter(process.stderr) };
  return {
    stdout: stdio.stdout,
    stderr: stdio.stderr,
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    stdoutGone: () => streamGone(process.stdout),
  };
}
