import { closeSync, openSync, unwatchFile, utimesSync, watch, watchFile, type FSWatcher, type Stats } from "node:fs";

/** How the doorbell is watched: `watch` (inotify and the like, falling back to polling when it fails) or `poll` only. */
export type DoorbellMode = "watch" | "poll";

/** Options of FsDoorbell. */
export interface FsDoorbellOptions {
  /** Default `watch`. */
  mode?: DoorbellMode;
  /** Stat period of the polling fallback (ms); default 75. */
  pollIntervalMs?: number;
}

/** Default stat period when `fs.watch` is not available. */
export const DEFAULT_DOORBELL_POLL_MS = 75;

/**
 * Wake-ups for the filesystem store: an empty file (`<root>/doorbell`) whose times writers set after publishing
 * events, watched by subscribers with `fs.watch` (or, where that fails, `fs.watchFile` polling). The file never
 * grows: ringing only changes its mtime. Listeners of this process are called at once (after the current turn)
 * when this process rings, without waiting for the watcher; they may then hear the same ring a second time from it.
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
  private closed = false;

  constructor(private readonly path: string, options: FsDoorbellOptions = {}) {
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

  private touch(): void {
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Missing (a new store, or removed): create it; a store we cannot write to simply rings no bell.
      if (this.ensure()) this.touchQuietly(now);
    }
  }

  private touchQuietly(now: Date): void {
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Best effort: subscribers' fallback polls still find the work.
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
          this.wake();
          // The file was removed or replaced: this watcher follows a dead inode; watch the path again.
          if (kind === "rename") this.restart();
        });
        w.on("error", () => this.restart(true));
        this.watcher = w;
        return;
      } catch {
        // No usable fs.watch here (platform, or inotify limits): poll instead.
      }
    }
    this.polling = true;
    watchFile(this.path, { persistent: false, interval: this.pollMs }, this.onStat);
  }

  private readonly onStat = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino) this.wake();
  };

  private restart(forcePoll = false): void {
    this.stop();
    if (this.closed || this.listeners.size === 0) return;
    if (forcePoll) {
      this.polling = true;
      watchFile(this.path, { persistent: false, interval: this.pollMs }, this.onStat);
    } else this.start();
  }

  private stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.polling) unwatchFile(this.path, this.onStat);
    this.polling = false;
  }

  /** A ring seen by the watcher: one call per listener for all the events of one turn. */
  private wake(): void {
    if (this.firePending) return;
    this.firePending = true;
    setImmediate(() => {
      this.firePending = false;
      this.fire();
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
