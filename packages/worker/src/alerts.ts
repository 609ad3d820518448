import type { Backend, ErrorGroup } from "@cairn/backend-interface";
import type { AlertRule } from "./alert-rules.js";
import type { WorkerEvents } from "./worker-events.js";

const DAY_MS = 86_400_000;
const LOOKBACK_MS = 30 * DAY_MS;

/** What an alert pass posted (for the worker's log and tests). */
export interface AlertsSent {
  sent: Array<{ on: AlertRule["on"]; key: string; webhook: string; ok: boolean }>;
}

/**
 * One alert pass, run by one host per slot of `everyMs` (the store-side "alerts" lease): evaluates each rule and
 * posts each alert at most once across all hosts (a store mark per alert is written before the post, so a failed
 * post is reported, not retried). Error groups use the normalized fingerprint:
 * - new-error-group: a group seen in the last two slots that has no occurrence in the 30 days before them;
 * - error-group-regressed: a group seen in the last two slots, quiet for `threshold` ms (default 24 h) before them,
 *   and seen before that, within 30 days (one alert per regression, keyed by its first new occurrence);
 * - queue-backlog: ready steps ≥ `threshold` (default 100) when the previous slot was below it (one per crossing).
 */
export async function runAlertPass(
  backend: Backend,
  rules: readonly AlertRule[],
  o: { holder: string; everyMs: number; events?: WorkerEvents },
): Promise<AlertsSent> {
  const sent: AlertsSent["sent"] = [];
  if (rules.length === 0 || !(await backend.acquireLease("alerts", o.holder, o.everyMs))) return { sent };
  const nowMs = backend.clock.nowUs() / 1000;
  const recentMs = 2 * o.everyMs;
  const groups = (startMs: number, endMs: number) => errorGroups(backend, startMs, endMs);
  const recent = rules.some((r) => r.on !== "queue-backlog") ? await groups(nowMs - recentMs, nowMs) : [];
  const post = async (rule: AlertRule, key: string, body: Record<string, unknown>) => {
    if (!(await backend.markOnce(`alert/${key}`, o.holder))) return;
    const ok = await postJson(rule.webhook, { alert: rule.on, ...body, at: new Date(nowMs).toISOString() });
    if (!ok)
      o.events?.emit({
        type: "error",
        where: "alerts",
        error: new Error(`the ${rule.on} webhook ${rule.webhook} did not accept the alert`),
      });
    sent.push({ on: rule.on, key, webhook: rule.webhook, ok });
  };
  for (const rule of rules) {
    if (rule.on === "new-error-group") {
      const before = fingerprints(await groups(nowMs - recentMs - LOOKBACK_MS, nowMs - recentMs - 1));
      for (const g of recent)
        if (!before.has(g.fingerprint)) await post(rule, `new-error-group/${g.fingerprint}`, groupBody(g));
    } else if (rule.on === "error-group-regressed") {
      const quietMs = rule.threshold ?? DAY_MS;
      const quiet = fingerprints(await groups(nowMs - recentMs - quietMs, nowMs - recentMs - 1));
      const earlier = fingerprints(
        await groups(nowMs - recentMs - quietMs - LOOKBACK_MS, nowMs - recentMs - quietMs - 1),
      );
      for (const g of recent) {
        if (!quiet.has(g.fingerprint) && earlier.has(g.fingerprint))
          await post(rule, `error-group-regressed/${g.fingerprint}/${g.firstSeen}`, { ...groupBody(g), quietMs });
      }
    } else {
      const threshold = rule.threshold ?? 100;
      const depth = await backend.getQueueDepth();
      const above = depth.readySteps >= threshold;
      const slot = Math.floor(nowMs / o.everyMs);
      // The previous slot's state is a mark too: whoever ran that slot recorded "above" or "below".
      const state = (s: number, value: string) =>
        backend.recordOnce(`alert-state/queue-backlog/${threshold}/${s}`, value);
      const previous = await state(slot - 1, "unknown");
      await state(slot, above ? "above" : "below");
      if (above && previous !== "above") {
        await post(rule, `queue-backlog/${threshold}/${slot}`, {
          readySteps: depth.readySteps,
          threshold,
          oldestReadyStepAgeMs: Math.round(depth.oldestReadyStepAgeUs / 1000),
        });
      }
    }
  }
  await backend.pruneMarks("alert-state/", DAY_MS);
  return { sent };
}

async function errorGroups(backend: Backend, startMs: number, endMs: number): Promise<ErrorGroup[]> {
  if (endMs <= startMs) return [];
  const range = { start: Math.max(0, Math.round(startMs * 1000)), end: Math.round(endMs * 1000) };
  return (await backend.getErrorsList({ timeRange: range, groupingStrategy: "normalized", limit: 1000 })).errors;
}

function fingerprints(groups: readonly ErrorGroup[]): Set<string> {
  return new Set(groups.map((g) => g.fingerprint));
}

function groupBody(g: ErrorGroup): Record<string, unknown> {
  return {
    fingerprint: g.fingerprint,
    errorName: g.errorName,
    errorMessage: g.errorMessage,
    count: g.count,
    affectedRuns: g.affectedRuns,
    firstSeen: new Date(g.firstSeen / 1000).toISOString(),
    lastSeen: new Date(g.lastSeen / 1000).toISOString(),
  };
}

/** POSTs `body` as JSON; true on a 2xx answer within 5 s. */
async function postJson(url: string, body: unknown): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return res.ok;
  } catch {
    return false;
  }
}
