import {
  checkGuard,
  withFollowUp,
  BackendUnavailableError,
  type Event,
  type FollowUp,
  type GuardVerdict,
  type RunState,
  type WriteGuard,
} from "@cairn/backend-interface";
import type { AtomicFs, TempFile } from "./fs-atomic.js";
import { readDirOrEmptySync, readListedFile, readTextOrNullSync } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import { translateFsError } from "./fs-errors.js";
import type { FsFeed } from "./fs-feed.js";
import { KeyedMutex } from "./fs-keyed-mutex.js";
import { parseSeq, type FsLayout, type RunAddress } from "./fs-layout.js";
import { applyEvents, emptyView, parseBatch, projectRunAfter, type RunView } from "./fs-run-view.js";

/** What the index maintenance does around a publication (see FsIndexes). */
export interface AppendHooks {
  /** Before the batch becomes visible: create the index entries the new state needs (durably). */
  beforePublish(view: RunView, postRun: RunState | null, events: readonly Event[]): Promise<void>;
  /** After the batch is visible: retire entries the new state no longer needs. `recheck` re-reads newer batches. */
  afterPublish(view: RunView, preRun: RunState | null, recheck: () => Promise<RunView>): Promise<void>;
}

/** Give up an optimistic append after this many lost races in a row (only under pathological contention). */
const MAX_APPEND_ROUNDS = 10_000;

/**
 * The per-run event logs: batch files `runs/<slug>/<runId>/events/<seq>.json`, a per-run projection cache, and the
 * optimistic guarded append.
 *
 * Appends need no lock. A writer brings its view up to batch N, checks the guard, and publishes batch N+1 with an
 * exclusive link; if another process took N+1 first (EEXIST), it reads the new batches, re-checks the guard and tries
 * N+2. Nothing is ever held, so a writer that dies mid-claim cannot block a step: recovery from a dead claimer is
 * true by construction. Within one process, a per-run mutex keeps concurrent calls from racing each other needlessly.
 */
export class EventLog {
  private readonly cache = new Map<string, RunView>();
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly reporter: CorruptionReporter,
    private readonly cacheSize: number,
    private readonly feed: FsFeed,
  ) {}

  /** The run's current view (shared cache object: read it, never mutate it). */
  async view(a: RunAddress): Promise<RunView> {
    return this.mutex.run(key(a), () => this.refresh(a));
  }

  /** Runs `fn` with the run's fresh view while holding this process's lock on the run. */
  async withRun<T>(a: RunAddress, fn: (view: RunView) => Promise<T>): Promise<T> {
    return this.mutex.run(key(a), async () => fn(await this.refresh(a)));
  }

  /** Brings the cached view up to date (call only under the run's mutex). */
  async refresh(a: RunAddress): Promise<RunView> {
    const view = this.cached(a);
    this.catchUp(view);
    return view;
  }

  /** The cached view as last seen (loaded in full when absent), marked most recently used. Call under the run's mutex. */
  private cached(a: RunAddress): RunView {
    const k = key(a);
    let view = this.cache.get(k);
    if (view)
      this.cache.delete(k); // re-inserted below as most recently used
    else view = this.loadFull(a);
    this.cache.set(k, view);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return view;
  }

  /** Drops a run's cached view (after a rollback of a failed submission). */
  forget(a: RunAddress): void {
    this.cache.delete(key(a));
  }

  /** Reads the batches published after `view.lastSeq` and folds them in. Returns how many there were. */
  catchUp(view: RunView): number {
    let read = 0;
    for (;;) {
      const seq = view.lastSeq + 1;
      const path = this.layout.batchFile(view, seq);
      const text = sync("reading", path, () => readTextOrNullSync(path));
      if (text === null) return read;
      const events = parseBatch(text, path, view, this.reporter);
      if (events) applyEvents(view, events);
      view.lastSeq = seq;
      read++;
    }
  }

  private loadFull(a: RunAddress): RunView {
    const view = emptyView(a);
    for (const b of this.readAllBatches(a)) {
      if (b.events) applyEvents(view, b.events);
      view.lastSeq = b.seq;
    }
    this.catchUp(view);
    return view;
  }

  /** Every batch of a run in sequence order (damaged ones with `events: null`, already reported). */
  private readAllBatches(a: RunAddress): Array<{ seq: number; events: Event[] | null }> {
    const dir = this.layout.eventsDir(a);
    const seqs = sync("listing", dir, () => readDirOrEmptySync(dir))
      .map(parseSeq)
      .filter((s): s is number => s !== null)
      .sort((x, y) => x - y);
    const out: Array<{ seq: number; events: Event[] | null }> = [];
    let expected = 0;
    for (const seq of seqs) {
      for (; expected < seq; expected++)
        this.reporter.report(this.layout.batchFile(a, expected), "missing batch file (gap in the sequence)", {
          workflowSlug: a.workflowSlug,
          runId: a.runId,
        });
      expected = seq + 1;
      const path = this.layout.batchFile(a, seq);
      const text = sync("reading", path, () => readListedFile(path));
      if (text !== null) out.push({ seq, events: parseBatch(text, path, a, this.reporter) });
    }
    return out;
  }

  /** Every event of a run in append order. Damaged batches are reported and skipped. */
  async readEvents(a: RunAddress): Promise<Event[]> {
    const out: Event[] = [];
    for (const b of this.readAllBatches(a)) if (b.events) out.push(...b.events);
    return out;
  }

  /**
   * The guarded append: atomically (optimistically) check `guard` against the run's projection and publish `written`
   * (and what `follow` adds to them) as the run's next batch. Returns the guard's verdict; on refusal nothing is written.
   *
   * The guard is first checked against the cached view without re-reading: if the link of batch N+1 succeeds, no one
   * had published N+1, so the view was current at that instant and the check was valid. A refusal is only final once
   * the view has been brought up to date.
   */
  async append(
    a: RunAddress,
    stepId: string | undefined,
    guard: WriteGuard,
    written: readonly Event[],
    hooks: AppendHooks,
    follow?: FollowUp,
  ): Promise<GuardVerdict> {
    return this.mutex.run(key(a), async () => {
      const view = this.cached(a);
      let fresh = false;
      let tmp: TempFile | undefined;
      try {
        for (let round = 0; round < MAX_APPEND_ROUNDS; round++) {
          const step = stepId === undefined ? null : (view.steps.get(stepId) ?? null);
          const verdict = checkGuard(guard, view.run, step);
          // The follow-up depends on the view: decided again (and its batch file written again) each round.
          const events = verdict.ok && follow ? withFollowUp(view.run, view.steps, written, follow) : written;
          if (follow && tmp) {
            await this.atomic.discard(tmp);
            tmp = undefined;
          }
          if (!verdict.ok || events.length === 0) {
            if (!fresh && this.catchUp(view) > 0) {
              fresh = true;
              continue;
            }
            return verdict;
          }
          const preRun = view.run;
          await hooks.beforePublish(view, projectRunAfter(preRun, events), events);
          tmp ??= await this.atomic.writeTemp(JSON.stringify(events));
          if (await this.publishNext(view, tmp, events)) {
            await hooks.afterPublish(view, preRun, async () => (this.catchUp(view), view));
            return verdict;
          }
          this.catchUp(view); // another writer took the slot: re-read and re-check
          fresh = true;
        }
        throw new BackendUnavailableError(`Could not append to run ${a.runId} after ${MAX_APPEND_ROUNDS} lost races.`);
      } finally {
        if (tmp) await this.atomic.discard(tmp);
      }
    });
  }

  /**
   * Publishes a complete file as the view's next batch (under the run's mutex) and folds it in. True when published.
   * Every batch of the store is published here, in the feed's global order (FsFeed.sequenced).
   */
  async publishNext(view: RunView, file: TempFile | string, events: readonly Event[]): Promise<boolean> {
    const seq = view.lastSeq + 1;
    if (
      !(await this.feed.sequenced(view, seq, events, () => this.atomic.publish(file, this.layout.batchFile(view, seq))))
    )
      return false;
    applyEvents(view, events);
    view.lastSeq += 1;
    return true;
  }

  /** Publishes batch 0 of a new run. True when published; false when the run already has a batch 0. */
  async publishFirst(a: RunAddress, file: TempFile, events: readonly Event[]): Promise<boolean> {
    return this.mutex.run(key(a), async () => {
      const existing = this.cache.get(key(a));
      if (existing && existing.lastSeq >= 0) return false;
      const view = existing ?? emptyView(a);
      if (!(await this.publishNext(view, file, events))) return false;
      this.cache.set(key(a), view);
      return true;
    });
  }
}

function key(a: RunAddress): string {
  return `${a.workflowSlug}/${a.runId}`;
}

function sync<T>(action: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translateFsError(err, action, path);
  }
}
