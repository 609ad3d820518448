import { createHash } from "node:crypto";
import {
  BackendUnavailableError,
  withFollowUp,
  type Event,
  type EventOf,
  type FollowUp,
  type SubmissionResult,
} from "@cairn/backend-interface";
import { ageMs, readLinkOrNull, readTextOrNull, removeIfExists, type AtomicFs } from "./fs-atomic.js";
import type { EventLog } from "./fs-event-log.js";
import type { FsIndexes } from "./fs-indexes.js";
import { parseRunIndexTarget, type FsLayout, type RunAddress } from "./fs-layout.js";

/** The file name of an idempotency key: its SHA-256 (keys may hold any character). */
export function hashIdempotencyKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * Atomic run creation with idempotency keys, without locks.
 *
 * The run's batch 0 (RunSubmitted plus extra events) is written once to a temp file. Index entries the new run needs
 * (run-id, live marker, created-at, touched day) are created first, durably. Then:
 * - with an idempotency key, the temp file is linked exclusively to `idempotency/<slug>/<sha256(key)>.json`: the key
 *   claim IS the commit point, and its content is the whole batch 0, so exactly one of any number of concurrent
 *   submitters wins. The winner then links the same file as the run's batch 0. If it dies in between, anyone who
 *   later meets the claim (a resubmit with the key, or a reader verifying the run's live marker) completes it by
 *   linking the claim file as batch 0 (roll forward): a claim is never left pointing at a run that does not appear.
 * - without a key, the exclusive link of batch 0 itself is the commit point.
 * A submission that loses removes its provisional entries; entries left by a submitter that died before committing
 * are removed by readers once older than the grace period. Either way a failed submit leaves no visible run.
 */
export class FsSubmissions {
  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly log: EventLog,
    private readonly indexes: FsIndexes,
    private readonly orphanGraceMs: number,
  ) {}

  /** Creates the run unless its idempotency key or its run id is taken (then reports the existing run). */
  async submit(
    submitted: EventOf<"RunSubmitted">,
    extra: readonly Event[],
    follow?: FollowUp,
  ): Promise<SubmissionResult> {
    const a: RunAddress = { workflowSlug: submitted.workflowSlug, runId: submitted.runId };
    const keyHash = submitted.idempotencyKey === undefined ? undefined : hashIdempotencyKey(submitted.idempotencyKey);
    if (keyHash) {
      const claimed = await this.existingClaim(a.workflowSlug, keyHash);
      if (claimed) return claimed;
    }
    const byId = await this.existingRun(a.runId);
    if (byId) return byId;

    // A new run's follow-up depends on its first events alone, so batch 0 holds it too.
    const events: Event[] = follow
      ? withFollowUp(null, new Map(), [submitted, ...extra], follow)
      : [submitted, ...extra];
    const startedMs = Date.now();
    const liveTarget = keyHash ? this.layout.idempotencyTarget(a.workflowSlug, keyHash) : this.layout.runIndexTarget(a);
    // Everything that must be durable before the commit, in parallel: with fsync on, the flushes share journal commits.
    const prepared = await Promise.allSettled([
      this.atomic.writeTemp(JSON.stringify(events)).then(async (t) => {
        try {
          await this.atomic.syncTemp(t); // flushed alongside the index entries, before anything is published
        } catch (err) {
          await this.atomic.discard(t);
          throw err;
        }
        return t;
      }),
      this.claimRunId(a),
      this.indexes.ensureLive(a, liveTarget),
      this.indexes.ensureCreated(a, submitted.timestampUs),
      this.indexes.ensureTouched(a, events),
      this.atomic.ensureDir(this.layout.eventsDir(a)),
    ]);
    const tmp = prepared[0].status === "fulfilled" ? prepared[0].value : undefined;
    try {
      for (const p of prepared) if (p.status === "rejected") throw p.reason;
      const otherWorkflow = prepared[1].status === "fulfilled" ? prepared[1].value : null;
      if (otherWorkflow || tmp === undefined) {
        await removeIfExists(this.layout.liveFile(a));
        await removeIfExists(this.layout.createdFile(a, submitted.timestampUs));
        this.removeRunDirIfEmpty(a);
        if (otherWorkflow) return otherWorkflow;
        throw new BackendUnavailableError("Could not write the submission's temp file.");
      }
      if (keyHash && !(await this.atomic.publish(tmp, this.layout.idempotencyFile(a.workflowSlug, keyHash)))) {
        const winner = await this.indexes.readClaim(a.workflowSlug, keyHash);
        const shared = winner?.runId === a.runId;
        if (!(shared && winner.first.timestampUs === submitted.timestampUs))
          await removeIfExists(this.layout.createdFile(a, submitted.timestampUs));
        if (!shared) await this.rollback(a);
        const claimed = await this.existingClaim(a.workflowSlug, keyHash);
        if (claimed) return claimed;
        throw new BackendUnavailableError(
          `The idempotency claim of workflow ${a.workflowSlug} vanished during submission.`,
        );
      }
      let result: SubmissionResult;
      if (await this.log.publishFirst(a, tmp, events)) {
        result = { created: true, runId: a.runId };
      } else {
        const view = await this.log.view(a);
        // Batch 0 may be our own claim, rolled forward by a reader; otherwise the run id was taken.
        result = (await this.batchZeroIs(a, submitted.eventId))
          ? { created: true, runId: a.runId }
          : { created: false, runId: a.runId, existingInput: view.run?.input };
      }
      if (!result.created) {
        const existing = (await this.log.view(a)).run;
        if (existing?.createdAtUs !== submitted.timestampUs)
          await removeIfExists(this.layout.createdFile(a, submitted.timestampUs));
      } else if (Date.now() - startedMs > this.orphanGraceMs / 2) {
        // Only after a very slow submit could a reader have removed our provisional entries as orphans.
        await Promise.all([
          this.indexes.ensureLive(a, liveTarget),
          this.indexes.ensureRunEntries(a, submitted.timestampUs),
        ]);
      }
      return result;
    } finally {
      if (tmp !== undefined) await this.atomic.discard(tmp);
    }
  }

  /** The run an existing key claim names (completing it if its submitter died), or null when the key is free. */
  private async existingClaim(slug: string, keyHash: string): Promise<SubmissionResult | null> {
    const claim = await this.indexes.readClaim(slug, keyHash);
    if (!claim) return null;
    const view = await this.indexes.rollForward({ workflowSlug: slug, runId: claim.runId }, keyHash);
    return { created: false, runId: claim.runId, existingInput: view?.run ? view.run.input : claim.first.input };
  }

  /** The existing run with this id in any workflow, or null. */
  private async existingRun(runId: string): Promise<SubmissionResult | null> {
    const at = await this.indexes.locate(runId);
    if (!at) return null;
    const view = await this.log.view(at);
    return view.lastSeq === -1 ? null : { created: false, runId, existingInput: view.run?.input };
  }

  /** Claims the run id for this workflow; returns the existing run when another workflow already has it. */
  private async claimRunId(a: RunAddress): Promise<SubmissionResult | null> {
    const path = this.layout.runIndexFile(a.runId);
    for (let round = 0; round < 3; round++) {
      if (await this.atomic.symlink(path, this.layout.runIndexTarget(a), true)) return null;
      const owner = parseRunIndexTarget((await readLinkOrNull(path)) ?? "");
      if (!owner || owner.workflowSlug === a.workflowSlug) return null;
      const existing = await this.existingRun(a.runId);
      if (existing) return existing;
      // Another workflow's submission of this id never committed (or is in flight): take the id once it is stale.
      const age = await ageMs(path);
      if (age !== null && age <= this.orphanGraceMs) {
        throw new BackendUnavailableError(
          `Run id ${a.runId} is being submitted to workflow ${owner.workflowSlug} right now.`,
        );
      }
      await removeIfExists(path);
    }
    throw new BackendUnavailableError(`Could not claim run id ${a.runId}.`);
  }

  /**
   * Removes the provisional entries of a submission that lost its key race to another run id. (With a caller-chosen
   * run id the winner may hold the same id: then its run-id entry, marker and directory are shared and are kept.)
   */
  private async rollback(a: RunAddress): Promise<void> {
    const committed = await this.log.withRun(a, async (v) => v.lastSeq >= 0);
    if (committed) return;
    this.log.forget(a);
    this.removeRunDirIfEmpty(a);
    await removeIfExists(this.layout.liveFile(a));
    if ((await readLinkOrNull(this.layout.runIndexFile(a.runId))) === this.layout.runIndexTarget(a))
      await removeIfExists(this.layout.runIndexFile(a.runId));
  }

  private removeRunDirIfEmpty(a: RunAddress): void {
    this.atomic.removeEmptyDir(this.layout.runDir(a));
  }

  private async batchZeroIs(a: RunAddress, eventId: string): Promise<boolean> {
    const text = await readTextOrNull(this.layout.batchFile(a, 0));
    if (text === null) return false;
    try {
      return (JSON.parse(text) as Array<{ eventId?: string }>)[0]?.eventId === eventId;
    } catch {
      return false;
    }
  }
}
