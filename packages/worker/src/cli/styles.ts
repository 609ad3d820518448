import pc from "picocolors";

/** Colour functions for one output stream; each returns its input unchanged when colour is off. */
export type Styles = ReturnType<typeof pc.createColors>;

/**
 * Whether to colour a stream: only a terminal, never with `NO_COLOR` set (https://no-color.org), `TERM=dumb` or
 * `--no-color`; `FORCE_COLOR` (non-empty, not 0) turns it on even into a pipe.
 */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv, flag = true): boolean {
  if (!flag || (env.NO_COLOR !== undefined && env.NO_COLOR !== "")) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0") return true;
  return isTTY && env.TERM !== "dumb";
}

/** The styles for a stream, coloured or plain. */
export function stylesFor(enabled: boolean): Styles {
  return pc.createColors(enabled);
}

/** A status word in its colour: green completed, red failed, yellow running or retrying, dim otherwise. */
export function statusColor(s: Styles, status: string): string {
  if (status === "completed") return s.green(status);
  if (status === "failed" || status === "cancelled") return s.red(status);
  if (status === "running" || status === "retried" || status === "released" || status === "reclaimed")
    return s.yellow(status);
  return s.dim(status);
}
