import { ManualClock } from "@cairn/backend-interface";
import type { WorkerTimers } from "@cairn/worker";
import { durationMs, type Duration } from "./duration.js";

interface Timer {
  dueUs: number;
  seq: number;
  fn: () => void;
}

/**
 * The clock of a test environment: the backend's time (a ManualClock) and the worker's timers (WorkerTimers) in one,
 * standing still until the test moves it. Moving it fires every timer that falls due, in time order with the clock
 * set to each one's due time, so polls, heartbeats, maintenance, step timeouts and retry back-off happen at once.
 */
export class TestClock extends ManualClock implements WorkerTimers {
  private timers: Timer[] = [];
  private seq = 0;
  private firing = false;

  /** Milliseconds since the epoch, as the clock stands. */
  nowMs(): number {
    return this.nowUs() / 1000;
  }

  /** A timer due `ms` from now on this clock; returns its cancel function. */
  setTimeout(fn: () => void, ms: number): () => void {
    const timer = { dueUs: this.nowUs() + Math.max(0, Math.round(ms * 1000)), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by a duration (`"10m"`, `"250ms"` or a number of ms) and fires what falls due. */
  advance(duration: Duration): void {
    this.advanceUs(Math.round(durationMs(duration) * 1000));
  }

  /** Moves time to the next timer and fires it (and any due with it); false when no timer is set. */
  advanceToNextTimer(): boolean {
    const next = this.nextTimerUs();
    if (next === undefined) return false;
    this.setUs(Math.max(this.nowUs(), next));
    return true;
  }

  /** When the next timer is due (µs), if any. */
  nextTimerUs(): number | undefined {
    return this.timers.reduce<number | undefined>((m, t) => (m === undefined || t.dueUs < m ? t.dueUs : m), undefined);
  }

  override advanceUs(us: number): void {
    this.setUs(this.nowUs() + us);
  }

  override advanceMs(ms: number): void {
    this.advanceUs(Math.round(ms * 1000));
  }

  override setUs(us: number): void {
    if (this.firing) {
      super.setUs(us); // a timer callback moving the clock: its own timers fire in the outer loop
      return;
    }
    this.firing = true;
    try {
      for (let fired = 0; fired < 100_000; fired++) {
        const next = this.earliestDueBy(us);
        if (!next) break;
        this.timers = this.timers.filter((t) => t !== next);
        if (next.dueUs > this.nowUs()) super.setUs(next.dueUs);
        try {
          next.fn();
        } catch {
          // A timer callback's failure is its owner's business; the clock goes on.
        }
      }
      if (us > this.nowUs()) super.setUs(us);
    } finally {
      this.firing = false;
    }
  }

  private earliestDueBy(us: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers)
      if (t.dueUs <= us && (!best || t.dueUs < best.dueUs || (t.dueUs === best.dueUs && t.seq < best.seq))) best = t;
    return best;
  }
}
