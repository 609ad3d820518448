import { ConfigError } from "@cairn/backend-interface";

/**
 * A service: a factory (its value disposed by `Symbol.asyncDispose`, `Symbol.dispose`, `close()` or `end()` when it
 * has one), or a factory with its own `dispose`.
 */
export type ServiceFactory<T = unknown> =
  (() => T) | { create: () => T; dispose?: (value: Awaited<T>) => void | Promise<void> };

/** Services by name, as the worker's `services` and a workflow's `services` give them. */
export type ServiceFactories = Record<string, ServiceFactory>;

/** What `ctx.services` holds: each service's value (a promise when its factory is async), created on first read. */
export type Services = Readonly<Record<string, unknown>>;

/**
 * A service read that cannot be served: no such name, or no services in a step process (`isolation: "process"`).
 * Code `CONFIG_ERROR` (the closed set of codes lives in backend-interface), with the `service` name as context.
 */
export class ServiceUnavailableError extends ConfigError {
  constructor(
    readonly service: string,
    message: string,
  ) {
    super(message, { service });
  }
}

interface Created {
  value: unknown;
  factory: ServiceFactory;
}

/**
 * A worker's services: the worker's own (global singletons) and each workflow's (scoped to it, over the global ones
 * of the same name). Each is created on first read, once per worker and scope, and disposed by `dispose()` (the
 * worker's shutdown), the last created first.
 */
export class WorkerServices {
  private readonly created = new Map<string, Created>();
  private readonly order: string[] = [];
  private readonly views = new Map<string, Services>();

  constructor(private readonly global: ServiceFactories = {}) {}

  /** The `ctx.services` of a workflow's steps and hooks. */
  view(workflowSlug: string, scoped: ServiceFactories = {}): Services {
    let view = this.views.get(workflowSlug);
    if (view) return view;
    const names = [...new Set([...Object.keys(this.global), ...Object.keys(scoped)])];
    const get = (name: string): unknown => {
      const own = Object.hasOwn(scoped, name);
      const factory = own ? scoped[name] : this.global[name];
      if (!factory) {
        throw new ServiceUnavailableError(
          name,
          `no service "${name}"; declare it in the worker's or the workflow's services (known: ${names.join(", ") || "none"}).`,
        );
      }
      return this.instance(own ? `${workflowSlug}\0${name}` : `\0${name}`, factory);
    };
    view = new Proxy(
      {},
      {
        get: (_t, name) => (typeof name === "string" ? get(name) : undefined),
        set: () => false,
        has: (_t, name) => typeof name === "string" && names.includes(name),
        ownKeys: () => names,
        getOwnPropertyDescriptor: (_t, name) =>
          typeof name === "string" && names.includes(name)
            ? { get: () => get(name), enumerable: true, configurable: true }
            : undefined,
      },
    ) as Services;
    this.views.set(workflowSlug, view);
    return view;
  }

  private instance(key: string, factory: ServiceFactory): unknown {
    const hit = this.created.get(key);
    if (hit) return hit.value;
    const value = typeof factory === "function" ? factory() : factory.create();
    this.created.set(key, { value, factory });
    this.order.push(key);
    return value;
  }

  /** Disposes every created service, the last created first; a failure is passed to `onError` and the rest go on. */
  async dispose(onError: (error: unknown, service: string) => void): Promise<void> {
    for (const key of this.order.splice(0).reverse()) {
      const c = this.created.get(key)!;
      this.created.delete(key);
      try {
        await disposeValue(await c.value, c.factory);
      } catch (err) {
        onError(err, key.slice(key.indexOf("\0") + 1));
      }
    }
    this.views.clear();
  }
}

async function disposeValue(value: unknown, factory: ServiceFactory): Promise<void> {
  if (typeof factory === "object" && factory.dispose) return factory.dispose(value);
  if (typeof value !== "object" || value === null) return;
  const v = value as Record<string | symbol, unknown>;
  for (const key of [Symbol.asyncDispose, Symbol.dispose, "close", "end"] as const) {
    if (typeof v[key] === "function") {
      await (v[key] as () => unknown).call(value);
      return;
    }
  }
}

/** `ctx.services` where there are none (a step in its own process): every read says why. */
export const NO_SERVICES: Services = new Proxy(
  {},
  {
    get: (_t, name) => {
      if (typeof name !== "string") return undefined;
      throw new ServiceUnavailableError(
        name,
        `service "${name}" is not available in a step process (isolation "process"); run the step in-process or create the client in the step.`,
      );
    },
  },
);
