import type { DriverName } from "../drivers.js";

/** What every system of the peer comparison provides: the parent's side (storage, enqueue) and the worker process's side. */

/** One system under test, with one configuration: `graphile-defaults`, `pg-boss-tuned`, `cairn-postgres`, ... */
export interface PeerSystem {
  /** Label in the JSON lines and the table. */
  id: string;
  /** Which worker the worker process starts (bench/peers/peer-worker.ts). */
  kind: "graphile" | "pg-boss" | "cairn";
  /** The storage it runs on: Postgres for the peers; skipped when that driver is not in the run. */
  driver: DriverName;
  /** What is set, in words (the table's footnotes and the JSON params). */
  config: string;
  /** Steps per job: 1, or 5 for Cairn's chain (its rates are also given per step). */
  stepsPerJob: number;
  /** Fresh storage with the system's tables installed (a fresh Postgres schema, SQLite file or fs folder). */
  prepare(): Promise<PreparedPeer>;
}

/** A system's fresh storage, seen from the benchmark process. */
export interface PreparedPeer {
  /** What the worker process needs to reach the same storage (one string argument). */
  location: string;
  /** The enqueue call enqueueMany makes, for the JSON params. */
  enqueueApi: string;
  /** Enqueues n no-op jobs at once, as fast as the system allows (its batch API where it has one). */
  enqueueMany(n: number): Promise<void>;
  /** Enqueues one job; resolves to the key the worker will report when it starts. */
  enqueueOne(i: number): Promise<string>;
  /** Closes connections and drops the storage. */
  destroy(): Promise<void>;
}

/** Callbacks a worker process hands to the system's worker. */
export interface WorkerHooks {
  /** A job (Cairn: a run) started; `atMs` is the wall clock read when it started. */
  started(key: string, atMs: number): void;
  /** A job (Cairn: a run) finished. */
  finished(): void;
}

/** A system's worker, running in the worker process. */
export interface RunningPeerWorker {
  /** True once the storage holds no job that is not finished (asked only after the last `finished`). */
  drained(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Starts a system's worker with 10 slots on `location`. */
export type StartPeerWorker = (
  location: string,
  hooks: WorkerHooks,
  mode: "drain" | "idle",
) => Promise<RunningPeerWorker>;

/** Slots of every worker in the comparison. */
export const SLOTS = 10;
