import type { Backend, Clock } from "@cairn/backend-interface";

/** How a child process opens the same storage: a module exporting `openBackend(config)` and its config. */
export interface BackendOpener {
  /** Absolute path of a TS module exporting `openBackend(config: unknown): Promise<Backend>` (initialized, system clock). */
  module: string;
  /** JSON-serialisable config handed to `openBackend`. */
  config: unknown;
}

/** One fresh storage with an initialized backend on it. */
export interface ConformanceInstance {
  /** An initialized backend on fresh, empty storage. */
  backend: Backend;
  /** Lets child processes (and a second in-process instance) open the same storage. */
  opener: BackendOpener;
  /** Removes the storage. */
  cleanup: () => Promise<void>;
  /** For drivers with a base directory: it, so the suite can check nothing is written outside it. */
  storageDir?: string;
}

/** What a driver declares about itself; the suite branches on these, never on the driver's name. */
export interface ConformanceCapabilities {
  /** Several OS processes may open the same storage at once (default true). Off: the multi-process tests are skipped. */
  multiProcess?: boolean;
}

/** Where a corrupt hook damages data: one run. */
export interface CorruptTarget {
  workflowSlug: string;
  runId: string;
}

/** A driver's registration with the conformance suite. */
export interface ConformanceHarness<I extends ConformanceInstance = ConformanceInstance> {
  /** Shown in the describe blocks. */
  name: string;
  /** Fresh storage per call. `clock` (a ManualClock) is given for time-controlled tests and must be used by the backend. */
  create: (options: { clock?: Clock }) => Promise<I>;
  /** Closes the backend and removes the storage. */
  destroy: (instance: I) => Promise<void>;
  /** Declared capabilities. */
  capabilities?: ConformanceCapabilities;
  /**
   * Optional: damages ONE stored step event of the run, the way a crash or a disk fault would (truncate a file, write an
   * invalid row). Never the run's RunSubmitted. When absent, the corruption tests are skipped.
   */
  corrupt?: (instance: I, target: CorruptTarget) => Promise<void>;
  /**
   * Optional: the problems the driver reported since `create` (e.g. CorruptRecordError instances passed to its
   * onCorruptRecord hook). When given, the suite requires a CORRUPT_RECORD report after `corrupt`.
   */
  reportedProblems?: (instance: I) => Array<{ code?: string }>;
}

/** The capabilities a harness declares, with defaults filled in. */
export function resolveCapabilities(h: ConformanceHarness<ConformanceInstance>): Required<ConformanceCapabilities> {
  return { multiProcess: h.capabilities?.multiProcess ?? true };
}
