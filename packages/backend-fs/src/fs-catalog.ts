import {
  WorkflowRegistrationSchema,
  WorkflowVersionSchema,
  type PutVersionResult,
  type WorkflowPause,
  type WorkflowRegistration,
  withPauseMark,
  type WorkflowVersion,
} from "@cairn/backend-interface";
import { readDirOrEmpty, readTextOrNull, type AtomicFs } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import { withFsErrors } from "./fs-errors.js";
import { parseVersionFileName, type FsLayout } from "./fs-layout.js";
import { LockFiles } from "./fs-lock-file.js";

/**
 * Workflow registrations (`workflows/<slug>.json`, replaced atomically by rename) and immutable versions
 * (`versions/<slug>/<versionFileName(versionId)>`, created exclusively by link). Damaged files are reported and skipped.
 */
export class FsCatalog {
  private readonly locks = new LockFiles();

  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly reporter: CorruptionReporter,
  ) {}

  /**
   * Stores (or replaces) a registration; one without `paused` keeps the stored mark. Registration writes of a workflow
   * hold its lock file (`workflows/<slug>.json.lock`) from the read to the replace, in every process.
   */
  async putWorkflow(registration: WorkflowRegistration): Promise<void> {
    await this.locked(registration.slug, async () => {
      const paused = registration.paused ?? (await this.readWorkflow(registration.slug))?.paused;
      await this.write(withPauseMark(registration, paused));
    });
  }

  /** Sets or clears a registration's pause mark, under the same lock; false when it is not registered. */
  async setWorkflowPause(slug: string, paused: WorkflowPause | null): Promise<boolean> {
    return this.locked(slug, async () => {
      const stored = await this.readWorkflow(slug);
      if (!stored) return false;
      await this.write(withPauseMark(stored, paused));
      return true;
    });
  }

  private async write(registration: WorkflowRegistration): Promise<void> {
    await this.atomic.replace(
      this.layout.workflowFile(registration.slug),
      `${JSON.stringify(registration, null, 2)}\n`,
    );
  }

  private locked<T>(slug: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(`${this.layout.workflowFile(slug)}.lock`, fn);
  }

  /** A registration, or null (also when its file is damaged, which is reported). */
  async readWorkflow(slug: string): Promise<WorkflowRegistration | null> {
    const path = this.layout.workflowFile(slug);
    const text = await withFsErrors("reading", path, () => readTextOrNull(path));
    return text === null ? null : this.parse(path, text, WorkflowRegistrationSchema, "workflow registration", slug);
  }

  /** Every readable registration. */
  async readWorkflows(): Promise<WorkflowRegistration[]> {
    const names = (await readDirOrEmpty(this.layout.workflowsDir())).filter((n) => n.endsWith(".json"));
    const regs = await Promise.all(names.map((n) => this.readWorkflow(n.slice(0, -5)).catch(() => null)));
    return regs.filter((r): r is WorkflowRegistration => r !== null);
  }

  /** Creates a version unless its id exists; then returns the stored one ("exists"). */
  async putVersion(version: WorkflowVersion): Promise<PutVersionResult> {
    const path = this.layout.versionFile(version.workflowSlug, version.versionId);
    if (await this.atomic.createExclusive(path, `${JSON.stringify(version, null, 2)}\n`))
      return { status: "created", version };
    const existing = (await this.readVersions(version.workflowSlug, version.versionId))[0];
    if (!existing)
      throw this.reporter.report(path, "unreadable workflow version; remove it to reuse the id", {
        workflowSlug: version.workflowSlug,
      });
    return { status: "exists", version: existing };
  }

  /** Versions of a workflow (or the one with `versionId`), newest first. */
  async readVersions(slug: string, versionId?: string): Promise<WorkflowVersion[]> {
    const ids =
      versionId !== undefined
        ? [versionId]
        : (await readDirOrEmpty(this.layout.versionsDir(slug)))
            .map(parseVersionFileName)
            .filter((id): id is string => id !== null);
    const versions = await Promise.all(
      ids.map(async (id) => {
        const path = this.layout.versionFile(slug, id);
        const text = await readTextOrNull(path);
        return text === null ? null : this.parse(path, text, WorkflowVersionSchema, "workflow version", slug);
      }),
    );
    return versions
      .filter((v): v is WorkflowVersion => v !== null)
      .sort(
        (x, y) => y.createdAtUs - x.createdAtUs || (y.versionId < x.versionId ? -1 : y.versionId > x.versionId ? 1 : 0),
      );
  }

  private parse<T>(
    path: string,
    text: string,
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown } },
    what: string,
    slug: string,
  ): T | null {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      this.reporter.report(path, `invalid or truncated JSON in ${what}`, { workflowSlug: slug }, err);
      return null;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      this.reporter.report(path, `${what} does not match its schema`, { workflowSlug: slug }, parsed.error);
      return null;
    }
    return parsed.data;
  }
}

/** Same version content: the content hash identifies it (metadata and creation time are descriptive). */
