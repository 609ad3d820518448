/** A source of time in integer microseconds since the epoch. Injected wherever time is read, so tests control it. */
export interface Clock {
  /** Current time in µs. Never goes backwards for one clock instance. */
  nowUs(): number;
}

/** The system clock, made monotonic: µs from `performance.timeOrigin + performance.now()`, never repeating or going backwards within a process. */
export class SystemClock implements Clock {
  private last = 0;
  nowUs(): number {
    const t = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    this.last = t > this.last ? t : this.last + 1;
    return this.last;
  }
}

/** A clock tests move by hand. Starts at `startUs`; `advance` moves it forward. */
export class ManualClock implements Clock {
  private current: number;
  constructor(startUs = Date.UTC(2026, 0, 1) * 1000) {
    this.current = startUs;
  }
  nowUs(): number {
    return this.current;
  }
  /** Moves the clock forward by `us` microseconds. */
  advanceUs(us: number): void {
    this.current += us;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advanceMs(ms: number): void {
    this.current += ms * 1000;
  }
  /** Sets the clock; refuses to go backwards. */
  setUs(us: number): void {
    if (us < this.current) throw new Error("ManualClock cannot go backwards");
    this.current = us;
  }
}

/** The process-wide default clock. */
export const systemClock: Clock = new SystemClock();
