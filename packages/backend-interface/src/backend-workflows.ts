import type { BackendDriver } from "./backend-driver.js";
import { InvalidArgumentError } from "./errors.js";
import { parseFlowControl } from "./flow-control.js";
import { BackendStepData } from "./backend-step-data.js";
import { assertIds, assertVersionId, assertWorkflowSlug } from "./identifiers.js";
import type {
  StepDefinition,
  WorkflowMetadata,
  WorkflowRegistration,
  WorkflowRegistrationInput,
  WorkflowVersion,
  WorkflowVersionInput,
} from "./schemas.js";
import { WorkflowRegistrationSchema, WorkflowVersionSchema } from "./schemas.js";
import { InvalidEventError, InvalidInputError, VersionConflictError, WorkflowNotFoundError } from "./errors.js";
import type { EventOf } from "./events.js";
import { InputSchemaValidator } from "./input-schema.js";
import { deserializeValue } from "./serialize.js";
import { parseEvent } from "./validate-event.js";
import { sameVersionContent } from "./version-content.js";

/** The workflow layer of Backend: registrations and immutable versions. */
export abstract class BackendWorkflows<D extends BackendDriver = BackendDriver> extends BackendStepData<D> {
  /** Registrations read by submissions, kept briefly (a new registration in another process is seen within REGISTRATION_TTL_MS). */
  private readonly registrations = new Map<string, { at: number; registration: WorkflowRegistration }>();
  /** Input schemas of versions, by workflow and version id (versions are immutable; only found ones are kept). */
  private readonly versionSchemas = new Map<string, { schema: unknown }>();
  /** Compiles each input schema once. */
  private readonly inputSchemas = new InputSchemaValidator();

  // ─── Workflows and versions ────────────────────────────────────────────────────────────────────
  /** Stores a workflow's metadata, input JSON Schema and step definitions (replacing an earlier registration). */
  async registerWorkflow(registration: WorkflowRegistrationInput): Promise<void> {
    assertWorkflowSlug(registration?.slug);
    if (registration.versionId !== undefined) assertVersionId(registration.versionId);
    const parsed = WorkflowRegistrationSchema.safeParse(registration);
    if (!parsed.success)
      throw new InvalidEventError(
        `Invalid registration of workflow ${registration.slug}`,
        parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      );
    for (const s of parsed.data.steps) assertIds({ stepId: s.id });
    // A new registration (a worker starting) keeps the workflow's pause (the driver keeps the stored mark when this
    // one has none): only resumeWorkflow ends it.
    await this.store.putWorkflow({ ...parsed.data, registeredAtUs: parsed.data.registeredAtUs ?? this.clock.nowUs() });
    this.registrations.delete(parsed.data.slug);
  }

  /** Sets or clears a workflow's pause mark on its registration (WorkflowNotFoundError when it was never registered). */
  protected async markWorkflowPaused(
    slug: string,
    paused: { atUs: number; reason?: string } | undefined,
  ): Promise<void> {
    const found = await this.store.setWorkflowPause(slug, paused ?? null);
    this.registrations.delete(slug);
    if (!found) throw new WorkflowNotFoundError(slug);
  }

  /**
   * A registration as submissions see it: read at most once per REGISTRATION_TTL_MS per workflow. An absent one is
   * never kept, so a workflow registered by another process is submittable at once.
   */
  protected async currentRegistration(slug: string): Promise<WorkflowRegistration | null> {
    const hit = this.registrations.get(slug);
    if (hit && Date.now() - hit.at < REGISTRATION_TTL_MS) return hit.registration;
    return this.freshRegistration(slug);
  }

  /** The registration as stored now (and kept for currentRegistration). */
  protected async freshRegistration(slug: string): Promise<WorkflowRegistration | null> {
    const now = Date.now();
    const registration = await this.store.readWorkflow(slug);
    if (registration) this.registrations.set(slug, { at: now, registration });
    else this.registrations.delete(slug);
    return registration;
  }

  /**
   * A prepared submission of a registered workflow, with the registration's current version (and whether it has an
   * input schema) filled in when the submitter named none, so the run is store-driven: started at submit when
   * available. WorkflowNotFoundError when the workflow was never registered.
   */
  protected async withRegisteredVersion(
    event: EventOf<"RunSubmitted">,
    submitted: { hasInputSchema?: boolean | undefined },
  ): Promise<EventOf<"RunSubmitted">> {
    let reg = await this.currentRegistration(event.workflowSlug);
    // A pause seen through the cache may have ended since (resumeWorkflow in another process): a run submitted paused
    // then would stay paused, as nothing resumes it. Paused workflows are rare, so check the stored one.
    if (reg?.paused) reg = await this.freshRegistration(event.workflowSlug);
    if (!reg) throw new WorkflowNotFoundError(event.workflowSlug);
    if (reg.paused && !event.pausedByWorkflow)
      event = parseEvent({ ...event, pausedByWorkflow: true }) as EventOf<"RunSubmitted">;
    if (event.versionId !== undefined || !reg.versionId) return event;
    return parseEvent({
      ...event,
      versionId: reg.versionId,
      hasInputSchema: submitted.hasInputSchema ?? reg.inputSchemaJSON !== undefined,
    }) as EventOf<"RunSubmitted">;
  }

  /**
   * Checks a prepared submission's input against its workflow's input JSON Schema: the schema of the run's version
   * when that version exists, else the registration's. InvalidInputError lists every failing field. A submission
   * without an input is not checked here: whether "no value" is acceptable is not something a JSON Schema says (a zod
   * `.optional()` root looks the same), so the worker's check decides.
   */
  protected async checkSubmittedInput(event: EventOf<"RunSubmitted">): Promise<void> {
    if (event.input === undefined) return;
    const schema = await this.inputSchemaOf(event.workflowSlug, event.versionId);
    if (schema === undefined) return;
    const issues = this.inputSchemas.check(schema, deserializeValue(event.input));
    if (issues.length)
      throw new InvalidInputError(
        { workflowSlug: event.workflowSlug, ...(event.versionId ? { versionId: event.versionId } : {}) },
        issues,
      );
  }

  private async inputSchemaOf(workflowSlug: string, versionId: string | undefined): Promise<unknown> {
    if (versionId !== undefined) {
      const key = `${workflowSlug}\0${versionId}`;
      let hit = this.versionSchemas.get(key);
      if (!hit) {
        const version = (await this.store.readVersions(workflowSlug, versionId))[0];
        if (version) this.versionSchemas.set(key, (hit = { schema: version.inputSchemaJSON }));
      }
      if (hit) return hit.schema;
    }
    return (await this.currentRegistration(workflowSlug))?.inputSchemaJSON;
  }

  /** A workflow's metadata, or null. */
  async getWorkflowMetadata(slug: string): Promise<WorkflowMetadata | null> {
    assertWorkflowSlug(slug);
    const reg = await this.store.readWorkflow(slug);
    if (!reg) return null;
    const { steps: _steps, ...meta } = reg;
    return meta;
  }

  /** Every registered workflow's metadata, by slug. */
  async listWorkflowMetadata(): Promise<WorkflowMetadata[]> {
    return (await this.store.readWorkflows())
      .map(({ steps: _steps, ...meta }) => meta)
      .sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  }

  /** A workflow's step definitions, or [] when it is not registered. */
  async getWorkflowSteps(slug: string): Promise<StepDefinition[]> {
    assertWorkflowSlug(slug);
    return (await this.store.readWorkflow(slug))?.steps ?? [];
  }

  /** Creates an immutable workflow version; idempotent per versionId, VersionConflictError if the id exists with other content. */
  async createWorkflowVersion(version: WorkflowVersionInput): Promise<WorkflowVersion> {
    assertWorkflowSlug(version?.workflowSlug);
    assertVersionId(version.versionId);
    const parsed = WorkflowVersionSchema.safeParse({
      ...version,
      createdAtUs: version.createdAtUs ?? this.clock.nowUs(),
    });
    if (!parsed.success)
      throw new InvalidEventError(
        `Invalid version of workflow ${version.workflowSlug}`,
        parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      );
    if (parsed.data.flow) {
      const flow = parseFlowControl(parsed.data.flow);
      if (!flow.ok)
        throw new InvalidArgumentError(
          `Invalid flow control of workflow ${version.workflowSlug}: ${flow.problems.join("; ")}. Nothing was written.`,
        );
      if (!this.store.capabilities.flowControl) {
        throw new InvalidArgumentError(
          `Workflow ${version.workflowSlug} declares flow control (concurrency, mode, rateLimit or debounce), which this storage driver does not enforce yet; use the SQLite or Postgres driver. Nothing was written.`,
        );
      }
    }
    const result = await this.store.putVersion(parsed.data);
    if (result.status === "exists" && !sameVersionContent(result.version, parsed.data))
      throw new VersionConflictError({ workflowSlug: version.workflowSlug, versionId: version.versionId });
    await this.loadDag(result.version.workflowSlug, result.version.versionId);
    return result.version;
  }

  /** One version, or null. */
  async getWorkflowVersion(workflowSlug: string, versionId: string): Promise<WorkflowVersion | null> {
    assertWorkflowSlug(workflowSlug);
    assertVersionId(versionId);
    return (await this.store.readVersions(workflowSlug, versionId))[0] ?? null;
  }

  /** The version named by the current registration, else the newest; null when there is none. */
  async getCurrentWorkflowVersion(workflowSlug: string): Promise<WorkflowVersion | null> {
    assertWorkflowSlug(workflowSlug);
    const reg = await this.store.readWorkflow(workflowSlug);
    if (reg?.versionId) {
      const named = (await this.store.readVersions(workflowSlug, reg.versionId))[0];
      if (named) return named;
    }
    return (await this.store.readVersions(workflowSlug))[0] ?? null;
  }

  /** Versions of a workflow, newest first. */
  async listWorkflowVersions(workflowSlug: string, options: { limit?: number } = {}): Promise<WorkflowVersion[]> {
    assertWorkflowSlug(workflowSlug);
    const all = await this.store.readVersions(workflowSlug);
    return options.limit === undefined ? all : all.slice(0, options.limit);
  }
}

/** How long a submission may use a registration it read (ms). */
export const REGISTRATION_TTL_MS = 1000;
