import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, type RetentionPolicy } from "@cairn/backend-interface";
import { toRetentionPolicy, type RetentionSpec } from "./retention-spec.js";
import { alertRuleProblems, type AlertRule } from "./alert-rules.js";
import { isDriverAvailable } from "./backend-url.js";
import { ensureTypeScriptLoader, isTypeScriptFile } from "./typescript-loader.js";

/** What a `cairn.config.json` / `cairn.config.ts` may set. */
export interface CairnConfig {
  /** Backend URL: file:…, sqlite:… or postgres://… */
  backend?: string;
  /** Workflows folder. */
  workflows?: string;
  /** How long ended runs are kept by default, per status (`{ "completed": "7d", "failed": "30d" }`); a workflow's own `retention` wins. */
  retention?: RetentionSpec;
  /** Alert rules: `[{ "on": "new-error-group" | "error-group-regressed" | "queue-backlog", "webhook": "https://…", "threshold"?: n }]`. */
  alerts?: AlertRule[];
}

/** Where a setting came from, for messages. */
export type ConfigSource = "flag" | "env" | "config-file" | "default";

/** Reads `cairn.config.json` or `cairn.config.ts` (default export) from `cwd`; `{}` when there is none. */
export async function loadConfigFile(cwd: string): Promise<{ config: CairnConfig; file?: string }> {
  const json = join(cwd, "cairn.config.json");
  if (await exists(json)) {
    try {
      return { config: JSON.parse(await readFile(json, "utf8")) as CairnConfig, file: json };
    } catch (err) {
      throw new ConfigError(`${json} is not valid JSON (${(err as Error).message}). Fix it or remove it.`, {
        path: json,
      });
    }
  }
  for (const name of ["cairn.config.ts", "cairn.config.mjs", "cairn.config.js"]) {
    const file = join(cwd, name);
    if (!(await exists(file))) continue;
    try {
      if (isTypeScriptFile(file)) await ensureTypeScriptLoader();
      const mod = (await import(pathToFileURL(file).href)) as { default?: CairnConfig };
      return { config: mod.default ?? {}, file };
    } catch (err) {
      throw new ConfigError(
        `${file} failed to load (${(err as Error).message.split("\n")[0]}). It must \`export default { backend, workflows }\`.`,
        { path: file },
      );
    }
  }
  return { config: {} };
}

/** The embedded default: SQLite at ./.cairn/cairn.db, or the filesystem driver when SQLite is not available. */
export async function defaultBackendUrl(): Promise<string> {
  return (await isDriverAvailable("sqlite")) ? "sqlite:./.cairn/cairn.db" : "file:./.cairn/data";
}

/** Picks the backend URL: `--backend`, else CAIRN_BACKEND, else the config file, else the embedded default. */
export async function resolveBackendUrl(
  options: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ url: string; source: ConfigSource }> {
  const env = options.env ?? process.env;
  if (options.flag) return { url: options.flag, source: "flag" };
  if (env.CAIRN_BACKEND) return { url: env.CAIRN_BACKEND, source: "env" };
  const { config, file } = await loadConfigFile(options.cwd ?? process.cwd());
  if (config.backend !== undefined) {
    if (typeof config.backend !== "string")
      throw new ConfigError(`"backend" in ${file} must be a URL string.`, { path: file });
    return { url: config.backend, source: "config-file" };
  }
  return { url: await defaultBackendUrl(), source: "default" };
}

/** Picks the workflows folder: `--workflows`, else CAIRN_WORKFLOWS, else the config file, else ./workflows. */
export async function resolveWorkflowsDir(
  options: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<string> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (options.flag) return resolve(cwd, options.flag);
  if (env.CAIRN_WORKFLOWS) return resolve(cwd, env.CAIRN_WORKFLOWS);
  const { config } = await loadConfigFile(cwd);
  return resolve(cwd, typeof config.workflows === "string" ? config.workflows : "workflows");
}

/** The default retention of cairn.config (`retention`), checked; undefined when it sets none. ConfigError when it is malformed. */
export async function resolveRetentionDefaults(cwd: string): Promise<RetentionPolicy | undefined> {
  const { config, file } = await loadConfigFile(cwd);
  const { policy, problems } = toRetentionPolicy(config.retention, "retention");
  if (problems.length)
    throw new ConfigError(`${problems.join("; ")} (in ${file}).`, { ...(file ? { path: file } : {}) });
  return policy;
}

/** The alert rules of cairn.config (`alerts`), checked; [] when it sets none. ConfigError when they are malformed. */
export async function resolveAlertRules(cwd: string): Promise<AlertRule[]> {
  const { config, file } = await loadConfigFile(cwd);
  const problems = alertRuleProblems(config.alerts);
  if (problems.length)
    throw new ConfigError(`${problems.join("; ")} (in ${file}).`, { ...(file ? { path: file } : {}) });
  return config.alerts ?? [];
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null)) !== null;
}
