import type { Event, EventType } from "@cairn/backend-interface";
import {
  closeSync,
  openSync,
  statSync,
  unwatchFile,
  utimesSync,
  watch,
  watchFile,
  type BigIntStats,
  type FSWatcher,
} from "node:fs";

/** How the doorbell is watched: `watch` (inotify and the like, falling back to polling when it fails) or `poll` only. */
export type DoorbellMode = "watch" | "poll";

/** Options of FsDoorbell. */
export interface FsDoorbellOptions {
  /** Default `watch`. */
  mode?: DoorbellMode;
  /** Stat period of the polling fallback (ms); default 75. */
  pollIntervalMs?: number;
}

/** The event types whose append may make work ready: a run to start, a step to claim (the set Postgres notifies on). */
const RINGING_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  "RunSubmitted",
  "WorkflowRetryStarted",
  "StepScheduled",
]);

/**
 * True when appending `events` may make work ready, so the doorbell should ring. Claims, heartbeats and logs do
 * not; a write with an engine follow-up (a completion that may schedule dependents) rings whatever its own events
 * (see FileSystemBackend.writeEvents): on this driver a needless wake-up costs the listener a scan of the live runs.
 */
export function ringsDoorbell(events: readonly Event[]): boolean {
  return events.some((e) => RINGING_TYPES.has(e.type));
}

/** Default stat period when `fs.watch` is not available. */
export const DEFAULT_DOORBELL_POLL_MS = 75;

/**
 * Wake-ups for the filesystem store: an empty file (`<root>/doorbell`) whose times writers set after publishing
 * events, watched by subscribers with `fs.watch` (or, where that fails, `fs.watchFile` polling). The file never
 * grows: ringing only changes its mtime. Listeners of this process are called at once (after the current turn)
 * when this process rings, without waiting for the watcher, which then ignores the echo of that ring.
 * Watchers exist only while someone is subscribed and never keep the process alive.
 */
export class FsDoorbell {
  private readonly listeners = new Set<() => void>();
  private readonly mode: DoorbellMode;
  private readonly pollMs: number;
  private watcher: FSWatcher | null = null;
  private polling = false;
  private ringPending = false;
  private firePending = false;
  private forced = false;
  private ownMtimeNs: bigint | null = null;
  private closed = false;

  constructor(
    private readonly path: string,
    options: FsDoorbellOptions = {},
  ) {
    this.mode = options.mode ?? "watch";
    this.pollMs = options.pollIntervalMs ?? DEFAULT_DOORBELL_POLL_MS;
  }

  /** Registers a listener; returns its unsubscribe function (idempotent). */
  subscribe(listener: () => void): () => void {
    if (this.closed) return () => {};
    const entry = (): void => listener();
    this.listeners.add(entry);
    if (!this.watcher && !this.polling) this.start();
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Events were published: wakes this process's listeners and touches the file for the others, once per turn. */
  ring(): void {
    if (this.closed || this.ringPending) return;
    this.ringPending = true;
    queueMicrotask(() => {
      this.ringPending = false;
      this.touch();
      this.fire();
    });
  }

  /** Stops watching and forgets every listener. Idempotent. */
  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.stop();
  }

  /** How subscribers are being woken right now (for tests): `watch`, `poll`, or null when nobody is subscribed. */
  get watching(): DoorbellMode | null {
    return this.watcher ? "watch" : this.polling ? "poll" : null;
  }

  /**
   * Sets the file's times to now plus a random fraction of a millisecond, so that two processes ringing in the same
   * millisecond still leave different mtimes, and remembers the mtime it left when this process is listening: a
   * watcher event that finds the file still at that mtime is the echo of our own ring (whose listeners were already
   * called after it, so nothing rung before it is missed) and is skipped.
   */
  private touch(): void {
    const t = Date.now() / 1000 + Math.random() / 1000;
    if (!this.setTimes(t) && !(this.ensure() && this.setTimes(t))) return;
    if (this.listeners.size === 0) return;
    const m = this.mtimeNs();
    // A filesystem that dropped the sub-millisecond part keeps coarse times: telling echoes apart is unsafe there.
    this.ownMtimeNs = m !== null && m % 1_000_000n !== 0n ? m : null;
  }

  /** utimes; false when it failed (missing file, read-only store: best effort, the fallback polls still find work). */
  private setTimes(t: number): boolean {
    try {
      utimesSync(this.path, t, t);
      return true;
    } catch {
      return false;
    }
  }

  private mtimeNs(): bigint | null {
    try {
      return statSync(this.path, { bigint: true }).mtimeNs;
    } catch {
      return null;
    }
  }

  /** Creates the file if it is missing; false when that is impossible (no store directory yet). */
  private ensure(): boolean {
    try {
      closeSync(openSync(this.path, "a"));
      return true;
    } catch {
      return false;
    }
  }

  private start(): void {
    if (this.mode === "watch" && this.ensure()) {
      try {
        const w = watch(this.path, { persistent: false }, (kind) => {
          // The file was removed or replaced: this watcher follows a dead inode; wake, and watch the path again.
          if (kind === "rename") {
            this.wake(null);
            this.restart();
          } else this.wake();
        });
        w.on("error", () => this.restart(true));
        this.watcher = w;
        return;
      } catch {
        // No usable fs.watch here (platform, or inotify limits): poll instead.
      }
    }
    this.polling = true;
    watchFile(this.path, { bigint: true, persistent: false, interval: this.pollMs }, this.onStat);
  }

  private readonly onStat = (curr: BigIntStats, prev: BigIntStats): void => {
    if (curr.mtimeNs !== prev.mtimeNs || curr.ino !== prev.ino) this.wake(curr.mtimeNs);
  };

  private restart(forcePoll = false): void {
    this.stop();
    if (this.closed || this.listeners.size === 0) return;
    if (forcePoll) {
      this.polling = true;
      watchFile(this.path, { bigint: true, persistent: false, interval: this.pollMs }, this.onStat);
    } else this.start();
  }

  private stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.polling) unwatchFile(this.path, this.onStat);
    this.polling = false;
  }

  /**
   * A ring seen by the watcher: one call per listener for all the events of one turn, unless the file is still at
   * the mtime of our own last ring. `mtimeNs` is the file's mtime when the caller already knows it, null to wake
   * regardless, undefined to stat the file.
   */
  private wake(mtimeNs?: bigint | null): void {
    if (mtimeNs === null) this.forced = true;
    if (this.firePending) return;
    this.firePending = true;
    setImmediate(() => {
      this.firePending = false;
      const forced = this.forced;
      this.forced = false;
      const now = mtimeNs ?? this.mtimeNs();
      if (forced || now === null || now !== this.ownMtimeNs) this.fire();
    });
  }

  private fire(): void {
    if (this.closed) return;
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // A listener's failure is its own; the others still hear the wake-up.
      }
    }
  }
}
