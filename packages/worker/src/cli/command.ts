import { Command, Option } from "commander";
import { parseDurationMs } from "../retention-spec.js";
import type { Backend } from "@cairn/backend-interface";
import { openBackend } from "../backend-url.js";
import { resolveBackendUrl } from "../config.js";
import { UsageError, type ExitCode } from "./exit-codes.js";
import { colorEnabled, stylesFor, type Styles } from "./styles.js";

/** Where a command writes, and its environment (injected so tests and library users control them). */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when stderr is a terminal (live views redraw in place). */
  isTTY: boolean;
  /** True when stdout is a terminal (tables fit its width, colour is on). */
  stdoutIsTTY?: boolean;
  /** The terminal's width in columns, when stdout is one. */
  columns?: number | undefined;
  /** True once stdout's reader went away (`cairn logs --follow | head`): a viewer then stops instead of watching on. */
  stdoutGone?: () => boolean;
}

/** What a command's action works with: the streams, their styles, and the width tables must fit. */
export interface CliContext {
  io: CliIO;
  /** Styles for stdout and stderr (plain when not a terminal, NO_COLOR or --no-color). */
  out: Styles;
  err: Styles;
  /** The terminal width for tables on stdout; undefined into a pipe. */
  columns: number | undefined;
}

/** Options every command accepts. */
export interface CommonOptions {
  backend?: string;
  json?: boolean;
  color?: boolean;
}

/** A command's action: its positional arguments, its options, the context; resolves to the exit status. */
export type Action<O> = (args: string[], opts: O & CommonOptions, cx: CliContext) => Promise<ExitCode>;

/** What main() hands each command module: the program to attach to and the slot the exit status goes in. */
export interface CliProgram {
  program: Command;
  io: CliIO;
  /** Set by the action that ran. */
  exitCode?: ExitCode;
}

/**
 * Adds `cairn <name>` to the program, with its help examples; main() adds the common options (--backend, --json,
 * --no-color) once every command is defined. Settings of the program (output routing, errors thrown instead of
 * exiting) are inherited.
 */
export function defineCommand(cli: CliProgram, name: string, summary: string, examples: string[]): Command {
  const cmd = cli.program
    .command(name)
    .summary(summary)
    .description(`${summary[0]!.toUpperCase()}${summary.slice(1)}.`);
  cmd.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`);
  return cmd;
}

/** Adds the common options to a command that runs (not to a group such as `analytics`), after its own options. */
export function addCommonOptions(cmd: Command): void {
  for (const sub of cmd.commands) addCommonOptions(sub);
  if (cmd.commands.length > 0) return;
  cmd
    .addOption(
      new Option(
        "--backend <url>",
        "file:./dir, sqlite:./file.db or postgres://user@host/db?schema=s (default: CAIRN_BACKEND, then cairn.config.json, then sqlite:./.cairn/cairn.db)",
      ).helpGroup("Common options:"),
    )
    .addOption(
      new Option("--json", 'machine-readable output on stdout; errors as {"error":{...}} on stderr').helpGroup(
        "Common options:",
      ),
    )
    .addOption(
      new Option("--no-color", "no colour (also when NO_COLOR is set or output is not a terminal)").helpGroup(
        "Common options:",
      ),
    );
}

/** The commander action for `fn`: collects positionals and options, builds the context, stores the exit status. */
export function action<O>(cli: CliProgram, fn: Action<O>): (...args: unknown[]) => Promise<void> {
  return async (...raw) => {
    const cmd = raw[raw.length - 1] as Command;
    const opts = cmd.opts<O & CommonOptions>();
    const args = cmd.processedArgs.flatMap((a: unknown) =>
      a === undefined ? [] : Array.isArray(a) ? a.map(String) : [String(a)],
    );
    cli.exitCode = await fn(args, opts, context(cli.io, opts.color !== false));
  };
}

/** The context for one command: styles per stream and the table width. */
export function context(io: CliIO, colorFlag = true): CliContext {
  const stdoutTTY = io.stdoutIsTTY === true;
  return {
    io,
    out: stylesFor(colorEnabled(stdoutTTY, io.env, colorFlag)),
    err: stylesFor(colorEnabled(io.isTTY, io.env, colorFlag)),
    columns: stdoutTTY ? (io.columns ?? 100) : undefined,
  };
}

/** A repeatable option's collector: `--tag a --tag b` → ["a", "b"]. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A repeatable option whose values may also be comma-separated: `--status failed,cancelled --status pending`. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").filter(Boolean)];
}

/** Opens the configured backend (`--backend`, CAIRN_BACKEND, config file, default), runs `fn`, and closes it. */
export async function withBackend<T>(
  flag: string | undefined,
  io: CliIO,
  fn: (backend: Backend, url: string) => Promise<T>,
): Promise<T> {
  const { url } = await resolveBackendUrl({ ...(flag ? { flag } : {}), env: io.env, cwd: io.cwd });
  const backend = await openBackend(url, { cwd: io.cwd });
  try {
    return await fn(backend, url);
  } finally {
    await backend.close().catch(() => {});
  }
}

/** Parses an integer flag, or throws a UsageError naming it. */
export function intFlag(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}.`);
  return n;
}

/** Parses a duration like 500ms, 30s, 15m, 2h, 7d (or a number of ms). */
export function durationMsFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDurationMs(value);
  if (ms === null)
    throw new UsageError(`--${name} must be a duration such as 30s, 15m, 2h or 7d, got ${JSON.stringify(value)}.`);
  return ms;
}

/** Parses an ISO 8601 instant (`2026-03-01T09:00:00Z`, or local time without a zone) into µs since the epoch. */
export function instantUsFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value.trim())
    ? Date.parse(value.trim())
    : NaN;
  if (!Number.isFinite(ms))
    throw new UsageError(
      `--${name} must be an ISO 8601 time such as 2026-03-01T09:00:00Z, got ${JSON.stringify(value)}.`,
    );
  return ms * 1000;
}

/** Prints JSON on stdout. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
