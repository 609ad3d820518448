import type { Database, Statement } from "better-sqlite3";
import {
  CorruptRecordError,
  type PutVersionResult,
  type WorkflowPause,
  type WorkflowRegistration,
  withPauseMark,
  type WorkflowVersion,
} from "@cairn/backend-interface";
import { encodeJson, type CorruptionReporter } from "./sqlite-codec.js";

/**
 * Workflow registrations and immutable workflow versions. Writes run inside the caller's `BEGIN IMMEDIATE`
 * transaction; damaged rows are reported and skipped.
 */
export class SqliteCatalog {
  private readonly s: Record<
    "putWorkflow" | "workflow" | "paused" | "workflows" | "version" | "versions" | "insertVersion",
    Statement
  >;

  constructor(
    db: Database,
    private readonly filename: string,
    private readonly report: CorruptionReporter,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      putWorkflow: p(
        "INSERT INTO workflows (slug, registration) VALUES (?, ?) ON CONFLICT (slug) DO UPDATE SET registration = excluded.registration",
      ),
      workflow: p("SELECT slug AS key, registration AS body FROM workflows WHERE slug = ?"),
      paused: p(
        "SELECT CASE WHEN json_valid(registration) THEN json_extract(registration, '$.paused') IS NOT NULL END FROM workflows WHERE slug = ?",
      ).pluck(),
      workflows: p("SELECT slug AS key, registration AS body FROM workflows ORDER BY slug"),
      version: p(
        "SELECT version_id AS key, version AS body FROM workflow_versions WHERE workflow_slug = ? AND version_id = ?",
      ),
      versions: p(
        "SELECT version_id AS key, version AS body FROM workflow_versions WHERE workflow_slug = ? ORDER BY created_at_us DESC, version_id DESC",
      ),
      insertVersion: p(
        "INSERT INTO workflow_versions (workflow_slug, version_id, created_at_us, version) VALUES (?, ?, ?, ?)",
      ),
    };
  }

  /** Stores or replaces a registration; one without `paused` keeps the stored mark (in the caller's transaction). */
  putWorkflow(registration: WorkflowRegistration): void {
    const paused = registration.paused ?? this.workflow(registration.slug)?.paused;
    this.s.putWorkflow.run(registration.slug, encodeJson(withPauseMark(registration, paused)));
  }

  /** Sets or clears a registration's pause mark (in the caller's transaction); false when it is not registered. */
  setWorkflowPause(slug: string, paused: WorkflowPause | null): boolean {
    const stored = this.workflow(slug);
    if (!stored) return false;
    this.s.putWorkflow.run(slug, encodeJson(withPauseMark(stored, paused)));
    return true;
  }

  /** One registration, or null. */
  workflow(slug: string): WorkflowRegistration | null {
    const row = this.s.workflow.get(slug) as Row | undefined;
    return row ? this.decode<WorkflowRegistration>(row, "workflows", "slug") : null;
  }

  /**
   * Whether a workflow's registration holds a pause mark (undefined: not registered, or its row is damaged). Read
   * inside a write, it is serialised with every registration write (writes are `BEGIN IMMEDIATE`, one at a time).
   */
  paused(slug: string): boolean | undefined {
    const value = this.s.paused.get(slug) as number | null | undefined;
    return value === undefined || value === null ? undefined : value === 1;
  }

  /** Every registration, by slug. */
  workflows(): WorkflowRegistration[] {
    return this.decodeAll<WorkflowRegistration>(this.s.workflows.all() as Row[], "workflows", "slug");
  }

  /** Stores a version unless its id exists; then returns the stored one ("exists"). */
  putVersion(version: WorkflowVersion): PutVersionResult {
    const row = this.s.version.get(version.workflowSlug, version.versionId) as Row | undefined;
    const existing = row ? this.decode<WorkflowVersion>(row, "workflow_versions", "version_id") : null;
    if (existing) return { status: "exists", version: existing };
    if (row)
      throw new CorruptRecordError(
        `${this.filename} (table workflow_versions, version_id ${version.versionId})`,
        "cannot replace a damaged version row",
        { workflowSlug: version.workflowSlug },
      );
    this.s.insertVersion.run(version.workflowSlug, version.versionId, version.createdAtUs, encodeJson(version));
    return { status: "created", version };
  }

  /** Versions of a workflow (or the one with `versionId`), newest first. */
  versions(workflowSlug: string, versionId?: string): WorkflowVersion[] {
    const rows = (
      versionId === undefined ? this.s.versions.all(workflowSlug) : this.s.version.all(workflowSlug, versionId)
    ) as Row[];
    return this.decodeAll<WorkflowVersion>(rows, "workflow_versions", "version_id");
  }

  private decodeAll<T>(rows: Row[], table: string, keyName: string): T[] {
    return rows.map((r) => this.decode<T>(r, table, keyName)).filter((v): v is T => v !== null);
  }

  private decode<T>(row: Row, table: string, keyName: string): T | null {
    try {
      return JSON.parse(row.body) as T;
    } catch (err) {
      this.report(
        new CorruptRecordError(
          `${this.filename} (table ${table}, ${keyName} ${row.key})`,
          `invalid JSON (${(err as Error).message})`,
          {},
          err,
        ),
      );
      return null;
    }
  }
}

interface Row {
  key: string;
  body: string;
}
