import { pathToFileURL } from "node:url";
import { afterEach, beforeEach } from "vitest";
import { ManualClock, type Backend } from "@cairn/backend-interface";
import type { BackendOpener, ConformanceHarness, ConformanceInstance } from "./harness.js";

/** The start of every ManualClock in the suite: 2026-01-01T00:00:00Z in µs. */
export const T0_US = Date.UTC(2026, 0, 1) * 1000;

/** Per-test access to a fresh instance (created in beforeEach, destroyed in afterEach). */
export interface TestContext {
  readonly instance: ConformanceInstance;
  readonly backend: Backend;
  /** The ManualClock the backend uses; throws for system-clock contexts. */
  readonly clock: ManualClock;
}

/**
 * Registers beforeEach/afterEach hooks that give every test fresh storage. With `manualClock`, the backend gets a
 * ManualClock starting at T0_US; otherwise it uses the system clock (needed when child processes share the storage).
 * `workflows`: slugs registered (without a version, see registerManual) on the fresh storage before each test, so the
 * tests may submit runs of them.
 */
export function useInstance(
  h: ConformanceHarness,
  options: { manualClock?: boolean; workflows?: readonly string[] } = {},
): TestContext {
  let instance: ConformanceInstance | undefined;
  let clock: ManualClock | undefined;
  const extra: Backend[] = [];
  beforeEach(async () => {
    clock = options.manualClock ? new ManualClock(T0_US) : undefined;
    instance = await h.create(clock ? { clock } : {});
    if (options.workflows?.length) await registerManual(instance.backend, options.workflows);
  });
  afterEach(async () => {
    for (const b of extra.splice(0)) await b.close().catch(() => undefined);
    if (instance) await h.destroy(instance);
    instance = undefined;
  });
  return {
    get instance() {
      if (!instance) throw new Error("no instance: use the context inside a test");
      return instance;
    },
    get backend() {
      return this.instance.backend;
    },
    get clock() {
      if (!clock) throw new Error("this context uses the system clock");
      return clock;
    },
  };
}

/** Opens a second backend on the same storage, in this process, through the driver's opener (system clock). */
export async function openSecondBackend(opener: BackendOpener): Promise<Backend> {
  const mod = (await import(pathToFileURL(opener.module).href)) as {
    openBackend: (config: unknown) => Promise<Backend>;
  };
  return mod.openBackend(opener.config);
}

/**
 * Registers each workflow with no steps and no version: submitRun accepts its runs (only registered workflows are
 * submittable), and they stay manual, driven by the test's own calls. A registration naming an existing version would
 * make them store-driven instead: started at submit and advanced by the store (see registerVersion in dags.ts).
 */
export async function registerManual(backend: Backend, slugs: readonly string[]): Promise<void> {
  for (const slug of slugs) await backend.registerWorkflow({ slug, name: slug, steps: [] });
}
