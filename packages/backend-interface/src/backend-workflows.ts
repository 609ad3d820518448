import { BackendStepData } from "./backend-step-data.js";
import { assertIds, assertVersionId, assertWorkflowSlug } from "./identifiers.js";
import type { StepDefinition, WorkflowMetadata, WorkflowRegistrationInput, WorkflowVersion, WorkflowVersionInput } from "./schemas.js";
import { WorkflowRegistrationSchema, WorkflowVersionSchema } from "./schemas.js";
import { InvalidEventError, VersionConflictError } from "./errors.js";

/** The workflow layer of Backend: registrations and immutable versions. */
export abstract class BackendWorkflows extends BackendStepData {
  // ─── Workflows and versions ────────────────────────────────────────────────────────────────────
  /** Stores a workflow's metadata, input JSON Schema and step definitions (replacing an earlier registration). */
  async registerWorkflow(registration: WorkflowRegistrationInput): Promise<void> {
    assertWorkflowSlug(registration?.slug);
    if (registration.versionId !== undefined) assertVersionId(registration.versionId);
    const parsed = WorkflowRegistrationSchema.safeParse(registration);
    if (!parsed.success) throw new InvalidEventError(`Invalid registration of workflow ${registration.slug}`, parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
    for (const s of parsed.data.steps) assertIds({ stepId: s.id });
    await this.putWorkflow({ ...parsed.data, registeredAtUs: parsed.data.registeredAtUs ?? this.clock.nowUs() });
  }

  /** A workflow's metadata, or null. */
  async getWorkflowMetadata(slug: string): Promise<WorkflowMetadata | null> {
    assertWorkflowSlug(slug);
    const reg = await this.readWorkflow(slug);
    if (!reg) return null;
    const { steps: _steps, ...meta } = reg;
    return meta;
  }

  /** Every registered workflow's metadata, by slug. */
  async listWorkflowMetadata(): Promise<WorkflowMetadata[]> {
    return (await this.readWorkflows()).map(({ steps: _steps, ...meta }) => meta).sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  }

  /** A workflow's step definitions, or [] when it is not registered. */
  async getWorkflowSteps(slug: string): Promise<StepDefinition[]> {
    assertWorkflowSlug(slug);
    return (await this.readWorkflow(slug))?.steps ?? [];
  }

  /** Creates an immutable workflow version; idempotent per versionId, VersionConflictError if the id exists with other content. */
  async createWorkflowVersion(version: WorkflowVersionInput): Promise<WorkflowVersion> {
    assertWorkflowSlug(version?.workflowSlug);
    assertVersionId(version.versionId);
    const parsed = WorkflowVersionSchema.safeParse({ ...version, createdAtUs: version.createdAtUs ?? this.clock.nowUs() });
    if (!parsed.success) throw new InvalidEventError(`Invalid version of workflow ${version.workflowSlug}`, parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
    const result = await this.putVersion(parsed.data);
    if (result.status === "conflict") throw new VersionConflictError({ workflowSlug: version.workflowSlug, versionId: version.versionId });
    return result.version;
  }

  /** One version, or null. */
  async getWorkflowVersion(workflowSlug: string, versionId: string): Promise<WorkflowVersion | null> {
    assertWorkflowSlug(workflowSlug);
    assertVersionId(versionId);
    return (await this.readVersions(workflowSlug, versionId))[0] ?? null;
  }

  /** The version named by the current registration, else the newest; null when there is none. */
  async getCurrentWorkflowVersion(workflowSlug: string): Promise<WorkflowVersion | null> {
    assertWorkflowSlug(workflowSlug);
    const reg = await this.readWorkflow(workflowSlug);
    if (reg?.versionId) {
      const named = (await this.readVersions(workflowSlug, reg.versionId))[0];
      if (named) return named;
    }
    return (await this.readVersions(workflowSlug))[0] ?? null;
  }

  /** Versions of a workflow, newest first. */
  async listWorkflowVersions(workflowSlug: string, options: { limit?: number } = {}): Promise<WorkflowVersion[]> {
    assertWorkflowSlug(workflowSlug);
    const all = await this.readVersions(workflowSlug);
    return options.limit === undefined ? all : all.slice(0, options.limit);
  }
}
