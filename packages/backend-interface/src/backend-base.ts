import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendDriver } from "./backend-driver.js";
import type { BackendCapabilities, BackendOptions } from "./backend-primitives.js";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import { BackendClosedError, BackendNotInitializedError } from "./errors.js";

/**
 * The root of Backend: the driver it wraps, the clock, and the lifecycle every driver shares. The driver is reached
 * only through `store`, which is where "before initialize" and "after close" are refused, with the same errors
 * whatever the driver.
 */
export abstract class BackendBase<D extends BackendDriver = BackendDriver> {
  /** The storage driver this backend wraps (for its own read-only facts: file names, schema versions…). */
  readonly driver: D;
  /** The time source of every timestamp this backend writes. */
  readonly clock: Clock;
  protected readonly outputDir: string;
  private state: "new" | "opening" | "open" | "closed" = "new";
  private opening: Promise<void> | undefined;

  constructor(driver: D, options: BackendOptions = {}) {
    this.driver = driver;
    this.clock = options.clock ?? systemClock;
    this.outputDir = options.outputDir ?? driver.outputDir ?? join(tmpdir(), "cairn-step-outputs");
  }

  /** What this backend's driver offers beyond the minimum. */
  get capabilities(): BackendCapabilities {
    return this.driver.capabilities;
  }

  /** Prepares storage (migrations, directories). Must be called (and awaited) before use; idempotent. */
  async initialize(): Promise<void> {
    if (this.state === "closed") throw new BackendClosedError();
    if (this.state === "open") return;
    this.state = "opening";
    this.opening ??= this.driver.initialize().then(
      () => {
        if (this.state === "opening") this.state = "open";
      },
      (err: unknown) => {
        this.opening = undefined;
        if (this.state === "opening") this.state = "new";
        throw err;
      },
    );
    await this.opening;
  }

  /** Releases resources after in-flight writes end; every later call fails with BackendClosedError. Idempotent. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    const opening = this.opening;
    this.state = "closed";
    await opening?.catch(() => undefined);
    await this.driver.close();
  }

  /** Calls `listener` when steps may have become ready (only drivers with `capabilities.notifications` call it). Returns an unsubscribe function. */
  subscribe(listener: () => void): () => void {
    return this.driver.subscribe?.(listener) ?? (() => {});
  }

  /** Throws BackendNotInitializedError / BackendClosedError unless the backend is open (for calls that report per item). */
  protected assertOpen(): void {
    void this.store;
  }

  /** The driver, once initialized and until closed. */
  protected get store(): D {
    if (this.state === "open") return this.driver;
    if (this.state === "closed") throw new BackendClosedError();
    throw new BackendNotInitializedError();
  }
}
