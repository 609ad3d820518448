import { z } from "zod";
import { CairnError, ErrorCode } from "./errors.js";
import { deserializeValue } from "./serialize.js";

const Positive = z.number().int().positive();
const KeyPath = z
  .string()
  .regex(/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/, "a dotted path of input fields, like customerId or account.id");

/**
 * A workflow's flow control, as stored with its version and enforced by the store when a run starts. All rules share
 * one key (the value at `key` in the run's input, or the submit's `concurrencyKey`): runs with the same workflow and
 * key form a gate.
 */
export const FlowControlSchema = z.object({
  /** The input path whose value keys the gate; absent: one gate for the whole workflow (unless the submit names one). */
  key: KeyPath.optional(),
  /** At most this many runs of a gate executing at once; the rest wait in FIFO order (priority first). */
  limit: Positive.optional(),
  /** What a submit does while a run of its gate is active (running or waiting). */
  mode: z.enum(["queue", "singleton", "exclusive", "capacity"]).default("queue"),
  /** singleton: drop | replace | signal; exclusive: reject | latest. */
  onBusy: z.enum(["drop", "replace", "signal", "reject", "latest"]).optional(),
  /** capacity mode: the most runs of a gate that may wait; beyond it a submit is refused. */
  capacity: Positive.optional(),
  /** At most `limit` runs of a gate start in any window of `periodMs`. */
  rateLimit: z
    .object({ limit: Positive, periodMs: Positive, onExceed: z.enum(["delay", "drop"]).default("delay") })
    .optional(),
  /** A run starts `periodMs` after the newest submit of its gate, with the newest input; older waiting runs are superseded. */
  debounce: z.object({ periodMs: Positive }).optional(),
});
/** A workflow's flow control, normalised. */
export type FlowControl = z.infer<typeof FlowControlSchema>;
/** A workflow's flow control as declared (defaults not yet filled in). */
export type FlowControlInput = z.input<typeof FlowControlSchema>;

const ON_BUSY: Record<FlowControl["mode"], ReadonlyArray<NonNullable<FlowControl["onBusy"]>>> = {
  queue: [],
  capacity: [],
  singleton: ["drop", "replace", "signal"],
  exclusive: ["reject", "latest"],
};

/**
 * Checks a declaration and fills in its defaults; the problems found name the field (`concurrency.limit`, ...) so
 * discovery can report them with the file. Returns the normalised rules, or the list of problems.
 */
export function parseFlowControl(input: unknown): { ok: true; flow: FlowControl } | { ok: false; problems: string[] } {
  const parsed = FlowControlSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`) };
  const flow = parsed.data;
  const problems: string[] = [];
  const allowed = ON_BUSY[flow.mode];
  if (flow.onBusy !== undefined && !allowed.includes(flow.onBusy)) {
    problems.push(
      `onBusy: "${flow.onBusy}" does not apply to mode "${flow.mode}"${allowed.length ? ` (use ${allowed.map((a) => `"${a}"`).join(" or ")})` : ""}`,
    );
  }
  if ((flow.mode === "singleton" || flow.mode === "exclusive") && flow.onBusy === undefined) {
    problems.push(`onBusy: mode "${flow.mode}" needs onBusy (${allowed.map((a) => `"${a}"`).join(" or ")})`);
  }
  if ((flow.mode === "singleton" || flow.mode === "exclusive") && flow.limit !== undefined && flow.limit !== 1) {
    problems.push(`limit: mode "${flow.mode}" allows one active run per key; leave limit out`);
  }
  if (flow.mode === "capacity" && flow.capacity === undefined)
    problems.push('capacity: mode "capacity" needs capacity (the most runs that may wait)');
  if (flow.mode !== "capacity" && flow.capacity !== undefined)
    problems.push('capacity: only mode "capacity" takes a capacity');
  if (problems.length) return { ok: false, problems };
  return { ok: true, flow };
}

/** The most runs of a gate executing at once under `flow` (Infinity when unlimited). */
export function gateLimit(flow: FlowControl): number {
  if (flow.mode === "singleton" || flow.mode === "exclusive") return 1;
  return flow.limit ?? Infinity;
}

/** True when the rules need a gate at all. */
export function hasGate(flow: FlowControl | undefined): flow is FlowControl {
  if (!flow) return false;
  return (
    flow.limit !== undefined || flow.mode !== "queue" || flow.rateLimit !== undefined || flow.debounce !== undefined
  );
}

/** Maximum length of a gate key value. */
export const MAX_FLOW_KEY_LENGTH = 256;

/**
 * The gate key of a run: the submit's explicit key, else the value at `flow.key` in the input (a string or a number;
 * absent or null: the empty key), else the empty key (one gate for the workflow).
 */
export function flowKeyOf(
  flow: FlowControl,
  serializedInput: string | undefined,
  explicit: string | undefined,
): string {
  if (explicit !== undefined) return explicit;
  if (flow.key === undefined) return "";
  let value: unknown = serializedInput === undefined ? undefined : deserializeValue(serializedInput);
  for (const part of flow.key.split("."))
    value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  if (value === undefined || value === null) return "";
  if (
    typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value)) ||
    typeof value === "boolean"
  ) {
    const key = String(value);
    if (key.length > MAX_FLOW_KEY_LENGTH)
      throw new FlowKeyError(flow.key, `its value is longer than ${MAX_FLOW_KEY_LENGTH} characters`);
    if (key.includes("\u0000")) throw new FlowKeyError(flow.key, "its value contains a NUL character");
    return key;
  }
  throw new FlowKeyError(
    flow.key,
    `its value is ${Array.isArray(value) ? "an array" : "an object"}; a concurrency key must be a string or a number`,
  );
}

/** What the store counts, under the gate's lock, before it decides whether a run of the gate starts. */
export interface GateQuery {
  workflowSlug: string;
  flowKey: string;
  /** The run being decided (left out of every count). */
  runId: string;
  priority: number;
  createdAtUs: number;
  nowUs: number;
  /** Count runs started at or after this instant (rate limits); absent: not needed. */
  startedSinceUs?: number;
  /** Counts may stop at this many (the rules never need more). */
  cap: number;
}

/** The other runs of a gate, as the store sees them inside the write that decides a run's start. */
export interface GateView {
  /** Ids of runs of the gate that are running (at most `cap`). */
  running: string[];
  /** Pending runs of the gate that are available by `nowUs` and come before the run (priority desc, createdAt asc, runId asc); at most `cap`. */
  ahead: number;
  /** Pending runs of the gate, available or not (at most `cap`). */
  waiting: number;
  /** True when a pending run of the gate was submitted after the run (createdAt, then runId). */
  newer: boolean;
  /** Runs of the gate whose start is at or after `startedSinceUs` (at most `cap`), and the earliest such start. */
  startedSince: number;
  earliestStartUs?: number;
}

/** Orders two pending runs of a gate: the one that starts first comes first (priority desc, createdAt asc, runId asc). */
export function gateOrder(
  a: { priority: number; createdAtUs: number; runId: string },
  b: { priority: number; createdAtUs: number; runId: string },
): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.createdAtUs !== b.createdAtUs) return a.createdAtUs - b.createdAtUs;
  return a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0;
}

/**
 * The reference count of a gate over plain run states (the in-memory and filesystem drivers use it; the SQL drivers
 * count in SQL and must agree).
 */
export function countGate(
  q: GateQuery,
  runs: Iterable<{
    runId: string;
    workflowSlug: string;
    flowKey?: string;
    status: string;
    priority: number;
    createdAtUs: number;
    availableAtUs: number;
    startedAtUs?: number;
  }>,
): GateView {
  const view: GateView = { running: [], ahead: 0, waiting: 0, newer: false, startedSince: 0 };
  const self = { priority: q.priority, createdAtUs: q.createdAtUs, runId: q.runId };
  for (const r of runs) {
    if (r.runId === q.runId || r.workflowSlug !== q.workflowSlug || r.flowKey !== q.flowKey) continue;
    if (r.status === "running" && view.running.length < q.cap) view.running.push(r.runId);
    if (r.status === "pending") {
      view.waiting = Math.min(q.cap, view.waiting + 1);
      if (r.availableAtUs <= q.nowUs && gateOrder(r, self) < 0) view.ahead = Math.min(q.cap, view.ahead + 1);
      if (r.createdAtUs > q.createdAtUs || (r.createdAtUs === q.createdAtUs && r.runId > q.runId)) view.newer = true;
    }
    if (q.startedSinceUs !== undefined && r.startedAtUs !== undefined && r.startedAtUs >= q.startedSinceUs) {
      view.startedSince = Math.min(q.cap, view.startedSince + 1);
      view.earliestStartUs = Math.min(view.earliestStartUs ?? Infinity, r.startedAtUs);
    }
  }
  view.running.sort();
  return view;
}

/** A concurrency key path that the input does not give a usable value for. Nothing was written. */
export class FlowKeyError extends CairnError {
  constructor(path: string, reason: string) {
    super(
      ErrorCode.InvalidInput,
      `The run's concurrency key (input path "${path}") cannot be used: ${reason}. Nothing was written.`,
      { path },
    );
  }
}

/** A submit refused by the workflow's flow control (exclusive with onBusy "reject", or a full capacity queue). Nothing was written. */
export class FlowRejectedError extends CairnError {
  constructor(workflowSlug: string, flowKey: string, reason: string) {
    const gate =
      flowKey === "" ? `workflow ${workflowSlug}` : `workflow ${workflowSlug} (key ${JSON.stringify(flowKey)})`;
    super(
      ErrorCode.FlowRejected,
      `The run was refused by the flow control of ${gate}: ${reason}. Nothing was written; submit again later.`,
      { workflowSlug, flowKey },
      { retryable: true },
    );
  }
}

/**
 * Pure: a submission's RunSubmitted event under its version's flow control: the gate key (FlowKeyError when the input
 * cannot give one) and, with a debounce, an availability no earlier than `periodMs` from now.
 */
export function applyFlowToSubmission<
  E extends { input?: string | undefined; availableAtUs: number; flowKey?: string },
>(event: E, flow: FlowControl, concurrencyKey: string | undefined, nowUs: number): E {
  const flowKey = flowKeyOf(flow, event.input, concurrencyKey);
  const availableAtUs = flow.debounce
    ? Math.max(event.availableAtUs, nowUs + flow.debounce.periodMs * 1000)
    : event.availableAtUs;
  return { ...event, flowKey, availableAtUs };
}
