import { randomUUID } from "node:crypto";
import { BackendRetention } from "./backend-retention.js";
import type { BackendDriver } from "./backend-driver.js";
import { InvalidArgumentError } from "./errors.js";

const LEASE_PREFIX = "lease/";

/**
 * The marks layer of Backend: decisions that many processes must take once, over the driver's write-once marks.
 * A lease is the mark of one time slot (the slot `floor(now / ttl)` of a name): whoever writes that mark first holds
 * the lease until the slot ends, so among any number of hosts exactly one does a periodic job per slot, without
 * clocks having to agree on more than the slot. `markOnce` records that something happened (an alert sent), once.
 */
export abstract class BackendMarks<D extends BackendDriver = BackendDriver> extends BackendRetention<D> {
  /** True when `holder` holds the lease `name` for the current slot of `ttlMs` (it wrote the slot's mark, now or earlier). */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    checkKeyPart("name", name);
    checkKeyPart("holder", holder);
    if (!Number.isInteger(ttlMs) || ttlMs < 1)
      throw new InvalidArgumentError(`ttlMs must be a positive integer, got ${String(ttlMs)}.`);
    const nowUs = this.clock.nowUs();
    const slot = Math.floor(nowUs / (ttlMs * 1000));
    const mark = await this.store.putMarkIfAbsent({ key: `${LEASE_PREFIX}${name}/${slot}`, holder, atUs: nowUs });
    return mark.holder === holder;
  }

  /** Records `key` once: true for the one call (across processes) that recorded it, false for every later one. */
  async markOnce(key: string, holder: string): Promise<boolean> {
    checkKeyPart("key", key, true);
    checkKeyPart("holder", holder);
    // A token of this call, so a second call by the same holder at the same instant is still a second call.
    const mark = { key, holder: `${holder}#${randomUUID()}`, atUs: this.clock.nowUs() };
    return (await this.store.putMarkIfAbsent(mark)).holder === mark.holder;
  }

  /** Records `value` under `key` unless a value is recorded there already; returns the recorded value (this one or the first). */
  async recordOnce(key: string, value: string): Promise<string> {
    checkKeyPart("key", key, true);
    checkKeyPart("value", value, true);
    return (await this.store.putMarkIfAbsent({ key, holder: value, atUs: this.clock.nowUs() })).holder;
  }

  /** Deletes marks under `prefix` (a key prefix) written more than `olderThanMs` ago; returns how many. */
  async pruneMarks(prefix: string, olderThanMs: number): Promise<number> {
    checkKeyPart("prefix", prefix, true);
    return this.store.deleteMarks(prefix, this.clock.nowUs() - olderThanMs * 1000);
  }

  /** Deletes lease marks of slots that started more than `olderThanMs` ago; returns how many. */
  async pruneLeases(olderThanMs = 86_400_000): Promise<number> {
    return this.store.deleteMarks(LEASE_PREFIX, this.clock.nowUs() - olderThanMs * 1000);
  }
}

function checkKeyPart(what: string, value: unknown, slashes = false): void {
  const ok =
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= 500 &&
    !/[\u0000-\u001f]/.test(value) &&
    (slashes || !value.includes("/"));
  if (!ok)
    throw new InvalidArgumentError(
      `${what} must be a non-empty string of at most 500 characters without control characters${slashes ? "" : ' or "/"'}, got ${JSON.stringify(value)}.`,
    );
}
