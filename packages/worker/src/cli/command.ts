import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Backend } from "@cairn/backend-interface";
import { openBackend } from "../backend-url.js";
import { resolveBackendUrl } from "../config.js";
import { UsageError, type ExitCode } from "./exit-codes.js";

/** Where a command writes, and its environment (injected so tests and library users control them). */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when stderr is a terminal (live views redraw in place). */
  isTTY: boolean;
}

/** One `cairn <name>` command. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIO): Promise<ExitCode>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  backend: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies Options;

/** What `parse` returns (named, so the built declarations can refer to it). */
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & O; allowPositionals: true; strict: true }>>;

/** parseArgs with the common options; unknown flags are a UsageError that names them. */
export function parse<O extends Options>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""));
  }
}

/** Opens the configured backend (`--backend`, CAIRN_BACKEND, config file, default), runs `fn`, and closes it. */
export async function withBackend<T>(flag: string | undefined, io: CliIO, fn: (backend: Backend, url: string) => Promise<T>): Promise<T> {
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
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}.`);
  return n;
}

/** Parses a duration like 500ms, 30s, 15m, 2h, 7d (or a number of ms). */
export function durationMsFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new UsageError(`--${name} must be a duration such as 30s, 15m, 2h or 7d, got ${JSON.stringify(value)}.`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "ms") as "ms"];
  return Math.round(Number(m[1]) * unit);
}

/** Prints JSON on stdout. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
