import { hostname } from "node:os";
import {
  BackendUnavailableError,
  feedPosition,
  parseFeedPosition,
  type DriverFeedEntry,
  type DriverFeedQuery,
  type Event,
} from "@cairn/backend-interface";
import type { AtomicFs } from "./fs-atomic.js";
import { readTextOrNull } from "./fs-atomic.js";
import type { CorruptionReporter } from "./fs-corruption.js";
import { KeyedMutex } from "./fs-keyed-mutex.js";
import type { FsLayout, RunAddress } from "./fs-layout.js";
import { parseBatch } from "./fs-run-view.js";

/** What a feed slot says: the batch its holder is about to publish, the holder, and the verdict on the slot before it. */
interface Slot {
  /** The run (workflow slug, run id) and batch number the holder publishes. */
  s: string;
  r: string;
  n: number;
  /** The event id of the batch's first event: tells this holder's batch from another's at the same number. */
  e: string;
  /** The holder: process id, host and when it claimed the slot (ms). */
  pid: number;
  host: string;
  at: number;
  /** The slot before: its batch was published ("c"), or never will be ("v"). Absent on slot 0. */
  prev?: "c" | "v";
}

type Verdict = "c" | "v" | "pending";

/** A holder that has not published this long after claiming its slot is taken for dead, on any host (ms). */
const HOLDER_LEASE_MS = 30_000;
const HOST = hostname();
/** Slot files this process holds now (claimed, publish not yet returned), over every store it has open. */
const held = new Set<string>();

/**
 * The global order of the filesystem store: a chain of feed slots `feed/<bucket>/<n>.json`, one per published batch.
 *
 * A writer claims the next slot by exclusive create (it names the batch it will publish), then publishes its batch,
 * and a slot is only claimed once the one before it is settled: its batch published (verdict "c"), or never to be
 * (its holder lost the race for the batch number, or died: "v"). The claimer records that verdict in its own slot,
 * so it is fixed for every reader. Publishing is therefore serial across all processes and slot order IS commit
 * order. Nothing is held that a crash could leave blocked: a dead holder's slot is settled as "v" by the next
 * writer (same host: its pid is gone; any host: after HOLDER_LEASE_MS), and a reader never waits on a slot, it just
 * stops before the last one while it is unsettled. Slots are dense (a slot is claimed only after the one before it
 * exists) and never deleted; events of deleted runs are skipped.
 */
export class FsFeed {
  /** The highest slot known to exist (-1: none yet). */
  private last = -1;
  private probed = false;
  /** The verdict on the last slot this process claimed, once its publish is known. */
  private own: { slot: number; verdict: "c" | "v" } | null = null;
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly layout: FsLayout,
    private readonly atomic: AtomicFs,
    private readonly reporter: CorruptionReporter,
  ) {}

  /**
   * Publishes a batch in the feed's order: claims the next slot for `(a, n)`, then runs `publish` (true when the
   * batch was published, false when the number was taken). Serial within this process and across processes.
   */
  async sequenced(
    a: RunAddress,
    n: number,
    events: readonly Event[],
    publish: () => Promise<boolean>,
  ): Promise<boolean> {
    return this.mutex.run("feed", async () => {
      const slot = await this.claim({
        s: a.workflowSlug,
        r: a.runId,
        n,
        e: events[0]?.eventId ?? "",
        pid: process.pid,
        host: HOST,
        at: Date.now(),
      });
      const path = this.layout.feedSlotFile(slot);
      held.add(path);
      try {
        return await this.publishHeld(a, n, slot, publish);
      } finally {
        held.delete(path);
      }
    });
  }

  /** The part of sequenced() done while holding `slot`. */
  private async publishHeld(a: RunAddress, n: number, slot: number, publish: () => Promise<boolean>): Promise<boolean> {
    if (await this.exists(slot + 1)) {
      // Settled behind our back: the batch number was already taken (our view was behind: the caller re-reads and
      // retries), or we outlived the lease, and then nothing may be published.
      if ((await readTextOrNull(this.layout.batchFile(a, n))) !== null) return false;
      throw new BackendUnavailableError(
        `The write to run ${a.runId} took longer than the feed's ${HOLDER_LEASE_MS} ms lease and was not made; retry it.`,
      );
    }
    // Unknown until publish returns: a publish that threw may have linked the batch, so the next claim reads it.
    this.own = null;
    const published = await publish();
    this.own = { slot, verdict: published ? "c" : "v" };
    return published;
  }

  /** The feed after `query.after`: settled slots in order, each committed batch's events, at most `query.limit`. */
  async read(query: DriverFeedQuery): Promise<DriverFeedEntry[]> {
    const [from, idx] = query.after === null ? [0, -1] : parseFeedPosition(query.after, "f", 2);
    const wanted = query.types ? new Set(query.types) : null;
    const out: DriverFeedEntry[] = [];
    let skip = idx!;
    let next = await this.readSlot(from!);
    for (let g = from!; next && out.length < query.limit; g++, skip = -1) {
      const slot = next;
      next = await this.readSlot(g + 1);
      const verdict = next ? (next.prev ?? "v") : await this.settle(slot, g);
      if (verdict === "pending") break;
      if (verdict === "v") continue;
      const events = await this.batch(slot);
      for (let i = skip + 1; i < events.length && out.length < query.limit; i++) {
        if (!wanted || wanted.has(events[i]!.type))
          out.push({ position: feedPosition("f", [g, i]), event: events[i]! });
      }
    }
    return out;
  }

  /** Claims the next slot once the last one is settled; returns its number. */
  private async claim(body: Omit<Slot, "prev">): Promise<number> {
    let waitMs = 1;
    for (;;) {
      const last = await this.lastSlot();
      let prev: "c" | "v" | undefined;
      if (last >= 0) {
        const known = this.own?.slot === last ? this.own.verdict : undefined;
        const slot = known ? null : await this.readSlot(last);
        const verdict = known ?? (slot ? await this.settle(slot, last) : "pending");
        if (verdict === "pending") {
          await new Promise((r) => setTimeout(r, waitMs));
          waitMs = Math.min(waitMs * 2, 20);
          continue;
        }
        prev = verdict;
      }
      const record: Slot = { ...body, ...(prev ? { prev } : {}) };
      if (await this.atomic.createExclusive(this.layout.feedSlotFile(last + 1), JSON.stringify(record))) {
        this.last = last + 1;
        return last + 1;
      }
      this.last = last + 1; // another writer took it: settle that one next
    }
  }

  /** Whether a slot's batch is published ("c"), never will be ("v"), or may still be ("pending"). */
  private async settle(slot: Slot, g: number): Promise<Verdict> {
    if (slot.n < 0) return "v";
    const text = await readTextOrNull(this.batchPath(slot));
    if (text !== null) {
      try {
        const first = (JSON.parse(text) as Array<{ eventId?: unknown }>)[0];
        return first?.eventId === slot.e ? "c" : "v";
      } catch {
        return "v"; // a damaged batch holds no events the feed could list
      }
    }
    if (holderGone(slot, this.layout.feedSlotFile(g))) return "v";
    // The run was deleted since (its earlier batches are gone too): whatever this slot held is not listed any more.
    if (
      slot.n > 0 &&
      (await readTextOrNull(this.layout.batchFile({ workflowSlug: slot.s, runId: slot.r }, slot.n - 1))) === null
    )
      return "v";
    return "pending";
  }

  /** The events of a committed slot's batch (none when its run was deleted since). */
  private async batch(slot: Slot): Promise<Event[]> {
    if (slot.n < 0) return [];
    const path = this.batchPath(slot);
    const text = await readTextOrNull(path);
    return text === null ? [] : (parseBatch(text, path, { workflowSlug: slot.s, runId: slot.r }, this.reporter) ?? []);
  }

  private batchPath(slot: Slot): string {
    return this.layout.batchFile({ workflowSlug: slot.s, runId: slot.r }, slot.n);
  }

  /** The highest existing slot: from the last one known, forward (slots are dense); found by doubling and bisection at first. */
  private async lastSlot(): Promise<number> {
    if (!this.probed) {
      // lo exists (or is -1), top does not
      let lo = -1;
      let top = 0;
      while (await this.exists(top)) {
        lo = top;
        top = top * 2 + 1;
      }
      while (top - lo > 1) {
        const mid = Math.floor((lo + top) / 2);
        if (await this.exists(mid)) lo = mid;
        else top = mid;
      }
      this.last = Math.max(this.last, lo);
      this.probed = true;
    }
    while (await this.exists(this.last + 1)) this.last++;
    return this.last;
  }

  private async exists(g: number): Promise<boolean> {
    return (await readTextOrNull(this.layout.feedSlotFile(g))) !== null;
  }

  private async readSlot(g: number): Promise<Slot | null> {
    const text = await readTextOrNull(this.layout.feedSlotFile(g));
    if (text === null) return null;
    try {
      const s = JSON.parse(text) as Slot;
      if (typeof s.s === "string" && typeof s.r === "string" && Number.isInteger(s.n) && typeof s.e === "string")
        return s;
    } catch {
      // reported below
    }
    // Slots are published whole (temp file and link), so this is damage from outside: the slot lists nothing.
    this.reporter.report(this.layout.feedSlotFile(g), "a feed slot must be a JSON object naming a batch", {});
    return { s: "", r: "", n: -1, e: "", pid: 0, host: "", at: 0, prev: "v" };
  }
}

/** True when a slot's holder can no longer publish: it is this process and done, its process is gone (same host), or its lease ran out. */
function holderGone(slot: Slot, path: string): boolean {
  if (Date.now() - slot.at > HOLDER_LEASE_MS) return true;
  if (slot.host !== HOST) return false;
  if (slot.pid === process.pid) return !held.has(path);
  try {
    process.kill(slot.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
