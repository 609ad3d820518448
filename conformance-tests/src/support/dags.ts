import { expect } from "vitest";
import {
  EventSchema,
  projectRunState,
  type Backend,
  type Event,
  type StepDefinitionInput,
  type WorkflowEvent,
} from "@cairn/backend-interface";
import { WF } from "./scenario.js";

/** a → (b, c) → d, with d exported: the diamond the transition tests drive. */
export const DIAMOND: StepDefinitionInput[] = [
  { id: "a", name: "A" },
  { id: "b", name: "B", dependencies: ["a"] },
  { id: "c", name: "C", dependencies: ["a"] },
  { id: "d", name: "D", dependencies: ["b", "c"], exportOutput: true },
];

/** a → b → c. */
export const CHAIN: StepDefinitionInput[] = [
  { id: "a", name: "A" },
  { id: "b", name: "B", dependencies: ["a"] },
  { id: "c", name: "C", dependencies: ["b"] },
];

/** a → (b, c), both exported: two parallel last steps. */
export const FORK: StepDefinitionInput[] = [
  { id: "a", name: "A" },
  { id: "b", name: "B", dependencies: ["a"], exportOutput: true },
  { id: "c", name: "C", dependencies: ["a"], exportOutput: true },
];

/** Registers `steps` as version `versionId` of the workflow and makes it the registered one: its runs are store-driven. */
export async function registerVersion(
  backend: Backend,
  steps: StepDefinitionInput[],
  options: { workflowSlug?: string; versionId?: string } = {},
): Promise<string> {
  const workflowSlug = options.workflowSlug ?? WF;
  const versionId = options.versionId ?? "v1";
  await backend.createWorkflowVersion({ workflowSlug, versionId, contentHash: `hash-${versionId}`, steps });
  await backend.registerWorkflow({ slug: workflowSlug, name: workflowSlug, versionId, steps });
  return versionId;
}

/** The run's events as `type` or `type:stepId`, in order. */
export async function eventTrail(backend: Backend, runId: string, workflowSlug = WF): Promise<string[]> {
  const events = await backend.loadEvents(workflowSlug, runId);
  expectValidEvents(events);
  return events.map((e) => (e.category === "step" ? `${e.type}:${e.stepId}` : e.type));
}

/** Every event parses as EventSchema: the engine builds its events without validating them again (Backend.buildEvent). */
export function expectValidEvents(events: readonly Event[]): void {
  for (const e of events) {
    const parsed = EventSchema.safeParse(e);
    expect(parsed.success ? null : parsed.error.issues, `${e.type} ${e.eventId}`).toBeNull();
    expect(parsed.data, `${e.type} ${e.eventId}: fields EventSchema does not know`).toEqual(e);
  }
}

/** The run's workflow events' types, in order. */
export async function workflowTrail(backend: Backend, runId: string, workflowSlug = WF): Promise<string[]> {
  const events = await backend.loadEvents(workflowSlug, runId, { category: "workflow" });
  expectValidEvents(events);
  return events.map((e) => e.type);
}

/** Step id → status, for the steps the store knows of (a step never written is absent). */
export async function stepStatuses(
  backend: Backend,
  runId: string,
  workflowSlug = WF,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of await backend.loadRun(workflowSlug, runId)) out[s.stepId] = s.status;
  return out;
}

/** The terminal run events among `events`. */
export function terminalEvents(events: readonly Event[]): Event[] {
  return events.filter(
    (e) => e.type === "WorkflowCompleted" || e.type === "WorkflowFailed" || e.type === "WorkflowCancelled",
  );
}

/** Asserts the run's stored state equals the projection of its own events; returns that state. */
export async function expectRunMatchesEvents(backend: Backend, runId: string, workflowSlug = WF) {
  const events = await backend.loadEvents(workflowSlug, runId, { category: "workflow" });
  const projected = projectRunState(events as WorkflowEvent[]);
  const stored = await backend.getRun(runId);
  expect(stored?.status, `run ${runId}: stored status vs the projection of its events`).toBe(projected?.status);
  expect(stored?.output, `run ${runId}: stored output vs the projection of its events`).toBe(projected?.output);
  return stored!;
}
