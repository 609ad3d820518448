import { isCairnError, type InvalidInputError } from "@cairn/backend-interface";
import { analyticsCommand } from "./analytics-command.js";
import type { CliIO, Command } from "./command.js";
import { cancelCommand, rerunCommand, retryCommand } from "./control-command.js";
import { dashboardCommand } from "./dashboard-command.js";
import { ExitCode, UsageError, exitCodeFor } from "./exit-codes.js";
export { exitWhenFlushed } from "./process-io.js";
import { migrateCommand } from "./migrate-command.js";
import { guardedWriter } from "./process-io.js";
import { logsCommand, runCommand, runsCommand } from "./runs-command.js";
import { submitCommand } from "./submit-command.js";
import { workerCommand } from "./worker-command.js";
import { workflowsCommand } from "./workflows-command.js";

const COMMANDS: Command[] = [workerCommand, submitCommand, runsCommand, runCommand, logsCommand, cancelCommand, rerunCommand, retryCommand, workflowsCommand, analyticsCommand, migrateCommand, dashboardCommand];

function help(): string {
  return `cairn: run and inspect event-sourced workflows

Usage: cairn <command> [options]

${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

Every command takes --backend <url> (file:./dir, sqlite:./file.db, postgres://user@host/db?schema=s; default: CAIRN_BACKEND,
then cairn.config.json / cairn.config.ts, then sqlite:./.cairn/cairn.db) and --json. \`cairn <command> --help\` for details.

Exit codes: 0 ok, 1 error, 2 bad usage or an input the workflow's schema rejects, 3 configuration, 4 not found, 5 conflict, 6 bad workflow folders,
7 backend unavailable, 10 run failed, 11 run cancelled.
`;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") { io.stdout(help()); return name ? ExitCode.ok : ExitCode.usage; }
  if (name === "--version") { io.stdout("cairn 0.1.0\n"); return ExitCode.ok; }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) { io.stderr(`Unknown command ${JSON.stringify(name)}.\n\n${help()}`); return ExitCode.usage; }
  if (rest.includes("--help") || rest.includes("-h")) { io.stdout(`${command.usage}\n`); return ExitCode.ok; }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    if (rest.includes("--json")) io.stderr(`${JSON.stringify({ error: errorJson(err, message) })}\n`);
    else io.stderr(`cairn ${name}: ${message}\n${err instanceof UsageError ? `\nUsage: ${command.usage}\n` : ""}`);
    if (code === ExitCode.error && io.env.CAIRN_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return code;
  }
}

/** What `--json` prints on stderr for a failed command: the stable code, the message and, for a rejected input, every failing field. */
function errorJson(err: unknown, message: string): { code: string; message: string; validationErrors?: unknown } {
  const code = isCairnError(err) ? err.code : err instanceof UsageError ? "USAGE" : "ERROR";
  const validationErrors = isCairnError(err, "INVALID_INPUT") ? (err as InvalidInputError).validationErrors : undefined;
  return { code, message, ...(validationErrors ? { validationErrors } : {}) };
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
  };
}
