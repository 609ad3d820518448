import { randomBytes, timingSafeEqual } from "node:crypto";
import { Hono, type Context } from "hono";
import { basicAuth } from "hono/basic-auth";
import { HTTPException } from "hono/http-exception";
import { Registry } from "prom-client";
import { InvalidArgumentError, type Backend } from "@cairn/backend-interface";
import { readAsset } from "./assets.js";
import { httpErrorOf } from "./dashboard-errors.js";
import { errorBody, layout } from "./html/layout.js";
import { registerStoreMetrics } from "./metrics/store-metrics.js";
import { registerActions } from "./actions.js";
import type { PageEnv } from "./page-env.js";
import { registerPages } from "./page-routes.js";

/** Basic-auth credentials of the dashboard. */
export interface DashboardAuth {
  username: string;
  password: string;
}

/** Options of createDashboard. */
export interface DashboardOptions {
  backend: Backend;
  /** Where the application mounts the dashboard ("/ops"); every route and link is under it. Default "" (the root). */
  basePath?: string;
  /** Basic-auth credentials (an object, or "user:password"); without them the dashboard asks for none. */
  auth?: DashboardAuth | string;
  /** Turn every action (cancel, retry, rerun, bulk) off: their routes answer 403 ACTIONS_DISABLED. */
  readOnly?: boolean;
  /** Serve Prometheus metrics at `<basePath>/metrics` (default true), from this registry when given. */
  metrics?: boolean | { registry: Registry };
  /** Called with errors that are not the caller's fault (the page says only "internal error"). */
  onError?: (err: unknown) => void;
}

/** Parses "user:password" into credentials, or InvalidArgumentError. */
export function parseAuth(text: string): DashboardAuth {
  const i = text.indexOf(":");
  if (i <= 0 || i === text.length - 1) throw new InvalidArgumentError("auth must be user:password, both non-empty.");
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

function normalizeBase(basePath: string | undefined): string {
  const b = (basePath ?? "").replace(/\/+$/, "");
  if (b !== "" && (!/^(\/[A-Za-z0-9._~-]+)+$/.test(b) || b.split("/").some((s) => s === "." || s === "..")))
    throw new InvalidArgumentError(`basePath must look like /ops or /admin/cairn, got ${JSON.stringify(basePath)}.`);
  return b;
}

/**
 * The dashboard as a Hono app: a Fetch-style handler (`app.fetch(request)`) an application mounts in its own server,
 * or `serveDashboard` runs on Node. Pages are rendered on the server; the few scripts (htmx, uPlot, the chart) are
 * served from this package and its dependencies, nothing from the network.
 */
export function createDashboard(o: DashboardOptions): Hono {
  const base = normalizeBase(o.basePath);
  const env: PageEnv = {
    backend: o.backend,
    base,
    readOnly: o.readOnly === true,
    formToken: randomBytes(18).toString("base64url"),
    nowUs: () => o.backend.clock.nowUs(),
  };
  const app = new Hono();
  const router = base ? app.basePath(base) : app;
  const auth = typeof o.auth === "string" ? parseAuth(o.auth) : o.auth;
  if (auth)
    router.use(
      "*",
      basicAuth({ verifyUser: (u, p) => same(u, auth.username) && same(p, auth.password), realm: "Cairn" }),
    );
  router.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    if (c.res.headers.get("Content-Type")?.startsWith("text/html")) {
      c.header(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
      );
    }
  });
  router.get("/assets/:name", async (c) => {
    const asset = await readAsset(c.req.param("name"));
    if (!asset) return c.text("Not found", 404);
    return c.body(new Uint8Array(asset.body), 200, {
      "Content-Type": asset.type,
      "Cache-Control": "public, max-age=3600",
    });
  });
  if (o.metrics !== false) {
    const registry = typeof o.metrics === "object" ? o.metrics.registry : new Registry();
    registerStoreMetrics(registry, o.backend);
    router.get("/metrics", async (c) =>
      c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType }),
    );
  }
  registerPages(router, env);
  registerActions(router, env);
  router.notFound((c) => errorPage(c, env, 404, "NOT_FOUND", "No such page."));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse(); // basic auth's 401 with its WWW-Authenticate
    const e = httpErrorOf(err);
    if (e.status === 500) o.onError?.(err);
    return errorPage(c, env, e.status, e.code, e.message);
  });
  return app;
}

function errorPage(
  c: Context,
  env: PageEnv,
  status: number,
  code: string,
  message: string,
): Response | Promise<Response> {
  return c.html(layout(env, { title: "Error", active: "", body: errorBody(code, message) }), status as 400);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
