import type { Event, EventOf, RunState } from "@cairn/backend-interface";
import { ageMs, readDirOrEmpty, readLinkOrNull, readTextOrNull, removeIfExists, type AtomicFs } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import type { AppendHooks, EventLog } from "./fs-event-log.js";
import {
  dayBucket,
  parseCreatedName,
  parseIdempotencyTarget,
  parseRunIndexTarget,
  parseRunName,
  type FsLayout,
  type RunAddress,
} from "./fs-layout.js";
import { isRunLive, isRunTerminal, parseBatch, type RunView } from "./fs-run-view.js";
import { mapLimit } from "./fs-concurrency.js";
import { DirListingCache } from "./fs-dir-cache.js";

/** Entries in the touched-day set remembered per process before it is reset. */
const TOUCHED_MEMORY = 100_000;

/**
 * The index files that keep polling queries proportional to live work: live-run markers, the run-id index, the
 * created-at index (listRuns newest first) and the touched-day index (analytics windows).
 *
 * Indexes are hints, never the truth. Entries a new state needs are created durably BEFORE the batch is published
 * (so a crash leaves at worst an extra entry, never a missing one); entries it no longer needs are removed after.
 * Readers verify every entry against the run's projected state and repair: a marker of an ended run is removed, an
 * entry of a run that never committed is removed once older than the grace period, and a keyed submission that
 * crashed after claiming its key is completed (rolled forward).
 */
export class FsIndexes implements AppendHooks {
  private readonly knownTouched = new Set<string>();
  private readonly listings = new DirListingCache();

  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly log: EventLog,
    private readonly reporter: CorruptionReporter,
    private readonly orphanGraceMs: number,
  ) {}

  // ─── Maintenance around appends ────────────────────────────────────────────────────────────────
  /** Creates the entries the post-append state needs, durably, before the batch is published. */
  async beforePublish(view: RunView, postRun: RunState | null, events: readonly Event[]): Promise<void> {
    const tasks: Array<Promise<unknown>> = [this.ensureTouched(view, events)];
    if (view.lastSeq === -1)
      tasks.push(this.atomic.symlink(this.layout.runIndexFile(view.runId), this.layout.runIndexTarget(view), true));
    if (isRunLive(postRun) && !isRunLive(view.run)) tasks.push(this.ensureLive(view));
    if (postRun && !view.run) tasks.push(this.ensureCreated(view, postRun.createdAtUs));
    await Promise.all(tasks);
  }

  /** Retires the live marker of a run that just ended; re-creates it for a run that was just reopened (race with a retire). */
  async afterPublish(view: RunView, preRun: RunState | null, recheck: () => Promise<RunView>): Promise<void> {
    if (isRunLive(view.run) && !isRunLive(preRun)) await this.ensureLive(view);
    else if (isRunTerminal(view.run) && !isRunTerminal(preRun)) await this.retireLive(view, recheck);
  }

  /** Ensures a run's live marker exists; `target` names its idempotency claim for keyed submissions. */
  async ensureLive(a: RunAddress, target: string = this.layout.runIndexTarget(a)): Promise<void> {
    await this.atomic.symlink(this.layout.liveFile(a), target, true);
  }

  /** Ensures the created-at entry and the run-id entry of a committed run (after a roll-forward or a slow submit). */
  async ensureRunEntries(a: RunAddress, createdAtUs: number): Promise<void> {
    await Promise.all([
      this.atomic.symlink(this.layout.runIndexFile(a.runId), this.layout.runIndexTarget(a), true),
      this.ensureCreated(a, createdAtUs),
    ]);
  }

  /** Ensures the created-at entry of a run (durably). True when this call created it. */
  ensureCreated(a: RunAddress, createdAtUs: number): Promise<boolean> {
    return this.atomic.symlink(this.layout.createdFile(a, createdAtUs), this.layout.createdTarget(a), true);
  }

  /** Records the UTC days on which the run has events (for analytics windows). */
  async ensureTouched(a: RunAddress, events: readonly Event[]): Promise<void> {
    const days = new Set(events.map((e) => dayBucket(e.timestampUs)));
    await Promise.all(
      [...days].map(async (day) => {
        const k = `${day}/${a.workflowSlug}/${a.runId}`;
        if (this.knownTouched.has(k)) return;
        await this.atomic.symlink(this.layout.touchedFile(day, a), this.layout.touchedTarget(a), true);
        if (this.knownTouched.size >= TOUCHED_MEMORY) this.knownTouched.clear();
        this.knownTouched.add(k);
      }),
    );
  }

  /** Removes the live marker of an ended run, then re-checks: if a newer batch reopened the run, the marker comes back. */
  private async retireLive(a: RunAddress, recheck: () => Promise<RunView>): Promise<void> {
    await removeIfExists(this.layout.liveFile(a));
    const view = await recheck();
    if (isRunLive(view.run)) await this.ensureLive(a);
  }

  // ─── Reading, with verification and repair ─────────────────────────────────────────────────────
  /** Views of every live run (of one workflow), each verified against its events; stale markers are repaired. */
  async liveViews(workflowSlug?: string, workflowSlugs?: ReadonlySet<string>): Promise<RunView[]> {
    const names = await readDirOrEmpty(this.layout.liveDir());
    const wanted = (a: RunAddress) =>
      (workflowSlug === undefined || a.workflowSlug === workflowSlug) &&
      (workflowSlugs === undefined || workflowSlugs.has(a.workflowSlug));
    const addresses = names.map(parseRunName).filter((a): a is RunAddress => a !== null && wanted(a));
    const views = await mapLimit(addresses, 32, (a) => this.verifiedLive(a));
    return views.filter((v): v is RunView => v !== null);
  }

  private async verifiedLive(a: RunAddress): Promise<RunView | null> {
    const view = await this.log.view(a);
    if (isRunLive(view.run)) return view;
    if (view.run === null) return view.lastSeq === -1 ? this.recoverOrphan(a, this.layout.liveFile(a)) : null;
    // The run ended but its marker survived (a crash between append and retire): repair under the run's lock.
    return this.log.withRun(a, async (v) => {
      if (isRunLive(v.run)) return v;
      await this.retireLive(a, async () => (await this.log.catchUp(v), v));
      return isRunLive(v.run) ? v : null;
    });
  }

  /**
   * An index entry whose run has no events: a keyed submission that crashed after claiming its key is completed;
   * otherwise (a submission still in progress, or one that died before committing) the entry is removed once it is
   * older than the grace period. Returns the run's view when the run turned out to exist. Call only for runs without
   * any batch: a run whose batch 0 is damaged keeps its entries (it is reported, not erased).
   */
  async recoverOrphan(a: RunAddress, entryPath: string): Promise<RunView | null> {
    const target = await readLinkOrNull(this.layout.liveFile(a));
    const keyed = target === null ? null : parseIdempotencyTarget(target);
    if (keyed) {
      const view = await this.rollForward(a, keyed.keyHash).catch(() => null); // an unreadable claim is reported by readClaim
      if (view?.run) return isRunLive(view.run) ? view : null;
    }
    const age = await ageMs(entryPath);
    if (age !== null && age > this.orphanGraceMs) await removeIfExists(entryPath);
    return null;
  }

  /**
   * Completes a keyed submission whose key claim exists: publishes the claim file itself (the same bytes) as the
   * run's batch 0 and re-creates its index entries. Idempotent. Returns the run's view, or null when the claim is
   * not this run's.
   */
  async rollForward(a: RunAddress, keyHash: string): Promise<RunView | null> {
    const claim = await this.readClaim(a.workflowSlug, keyHash);
    if (claim === null || claim.runId !== a.runId) return null;
    const { events, first } = claim;
    const view = await this.log.withRun(a, async (v) => {
      if (v.lastSeq === -1) {
        await Promise.all([
          this.ensureTouched(a, events),
          this.ensureRunEntries(a, first.timestampUs),
          this.ensureLive(a, this.layout.idempotencyTarget(a.workflowSlug, keyHash)),
        ]);
        if (!(await this.log.publishNext(v, this.layout.idempotencyFile(a.workflowSlug, keyHash), events)))
          await this.log.catchUp(v);
      }
      return v;
    });
    return view;
  }

  /**
   * Reads an idempotency claim: the batch 0 of the run that holds the key. Null when the key is free; throws the
   * reported CorruptRecordError when the claim is unreadable (the key stays blocked until an operator removes it).
   */
  async readClaim(
    slug: string,
    keyHash: string,
  ): Promise<{ runId: string; events: Event[]; first: EventOf<"RunSubmitted"> } | null> {
    const keyFile = this.layout.idempotencyFile(slug, keyHash);
    const text = await readTextOrNull(keyFile);
    if (text === null) return null;
    let runId: unknown;
    try {
      runId = (JSON.parse(text) as Array<{ runId?: unknown }>)[0]?.runId;
    } catch {
      runId = undefined;
    }
    const events =
      typeof runId === "string" ? parseBatch(text, keyFile, { workflowSlug: slug, runId }, this.reporter) : null;
    const first = events?.[0];
    if (typeof runId !== "string" || !events || !first || first.type !== "RunSubmitted") {
      throw this.reporter.report(keyFile, "unreadable idempotency claim; remove it to free the key", {
        workflowSlug: slug,
      });
    }
    return { runId, events, first };
  }

  /** Created-at entries newest first (createdAt descending, runId descending), bucket by bucket, lazily. */
  async *createdNewestFirst(
    workflowSlug?: string,
  ): AsyncGenerator<RunAddress & { createdAtUs: number; entryPath: string }> {
    const desc = (names: string[]): string[] => [...names].sort().reverse();
    for (const day of this.listings.listDerived(this.layout.createdDir(), desc)) {
      for (const hour of this.listings.listDerived(this.layout.createdDir(day), desc)) {
        for (const second of this.listings.listDerived(this.layout.createdDir(day, hour), desc)) {
          const dir = this.layout.createdDir(day, hour, second);
          const entries = this.listings.listDerived(dir, (names) =>
            names
              .map(parseCreatedName)
              .filter((e): e is NonNullable<typeof e> => e !== null)
              .sort((x, y) => y.createdAtUs - x.createdAtUs || (y.runId < x.runId ? -1 : y.runId > x.runId ? 1 : 0)),
          );
          for (const e of entries) {
            if (workflowSlug === undefined || e.workflowSlug === workflowSlug)
              yield { ...e, entryPath: this.layout.createdFile(e, e.createdAtUs) };
          }
        }
      }
    }
  }

  /** Runs with events on any UTC day from `startUs` to `endUs` (analytics). */
  async touchedRuns(startUs: number, endUs: number): Promise<RunAddress[]> {
    const first = dayBucket(startUs);
    const last = dayBucket(endUs);
    const buckets = (await readDirOrEmpty(this.layout.touchedRoot())).filter((d) => d >= first && d <= last);
    const seen = new Map<string, RunAddress>();
    for (const bucket of buckets) {
      for (const name of await readDirOrEmpty(this.layout.touchedBucket(bucket))) {
        const a = parseRunName(name);
        if (a) seen.set(`${a.workflowSlug}/${a.runId}`, a);
      }
    }
    return [...seen.values()];
  }

  /** The address of a run by id alone (O(1) through the run-id index), or null. */
  async locate(runId: string): Promise<RunAddress | null> {
    const target = await readLinkOrNull(this.layout.runIndexFile(runId));
    return target === null ? null : parseRunIndexTarget(target);
  }
}
