/** The events an alert rule fires on. */
export const ALERT_KINDS = ["new-error-group", "error-group-regressed", "queue-backlog"] as const;

/** One alert rule of cairn.config (`alerts: [...]`): what it fires on, where it posts, and its threshold. */
export interface AlertRule {
  on: (typeof ALERT_KINDS)[number];
  /** An http(s) URL that receives the alert as a JSON POST. */
  webhook: string;
  /** queue-backlog: ready steps at or above which the queue is backed up (default 100). error-group-regressed: how long (ms) a group must have been quiet (default 24 h). */
  threshold?: number;
}

/** Checks `alerts` of a config file; the problems say what is expected (empty when it is valid). */
export function alertRuleProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    return ['alerts must be an array such as [{ "on": "new-error-group", "webhook": "https://…" }]'];
  const problems: string[] = [];
  value.forEach((r: unknown, i) => {
    const at = `alerts[${i}]`;
    if (r === null || typeof r !== "object")
      return void problems.push(`${at} must be an object { on, webhook, threshold? }`);
    const rule = r as Record<string, unknown>;
    if (!(ALERT_KINDS as readonly unknown[]).includes(rule.on))
      problems.push(`${at}.on must be one of ${ALERT_KINDS.join(", ")}, got ${JSON.stringify(rule.on)}`);
    let url: URL | null = null;
    try {
      url = typeof rule.webhook === "string" ? new URL(rule.webhook) : null;
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
      problems.push(`${at}.webhook must be an http(s) URL, got ${JSON.stringify(rule.webhook)}`);
    if (
      rule.threshold !== undefined &&
      !(typeof rule.threshold === "number" && Number.isFinite(rule.threshold) && rule.threshold > 0)
    ) {
      problems.push(`${at}.threshold must be a positive number, got ${JSON.stringify(rule.threshold)}`);
    }
  });
  return problems;
}
