/** The variables that have a value (`process.env` has undefined holes): what `ctx.env` is built from. */
export function definedEnv(env: Record<string, string | undefined> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"));
}
