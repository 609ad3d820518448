import type * as Otel from "@opentelemetry/api";

/** The OpenTelemetry API, when the application has `@opentelemetry/api` installed (an optional peer dependency). */
export type OtelApi = typeof Otel;

let loaded: Promise<OtelApi | undefined> | undefined;

/** Loads `@opentelemetry/api` on first use; undefined when it is not installed (then nothing is traced). */
export function loadOtel(): Promise<OtelApi | undefined> {
  loaded ??= import("@opentelemetry/api").then(
    (m): OtelApi => m,
    () => undefined,
  );
  return loaded;
}

/** The run metadata keys that carry the submitter's W3C trace context. */
export const TRACE_KEYS = { traceparent: "traceparent", tracestate: "tracestate" } as const;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The active span's W3C trace context as run metadata (`traceparent`, and `tracestate` when set), so the worker's
 * spans join the submitter's trace; `{}` without `@opentelemetry/api` or without an active, valid span.
 * `submit` adds it; a caller of Backend.submitRun spreads it into `metadata` itself.
 */
export async function traceContextMetadata(): Promise<Record<string, string>> {
  const api = await loadOtel();
  const span = api?.trace.getActiveSpan();
  const sc = span?.spanContext();
  if (!api || !sc || !api.isSpanContextValid(sc)) return {};
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, "0");
  const state = sc.traceState?.serialize();
  return {
    [TRACE_KEYS.traceparent]: `00-${sc.traceId}-${sc.spanId}-${flags}`,
    ...(state ? { [TRACE_KEYS.tracestate]: state } : {}),
  };
}

/** The context a run's metadata carries (its submitter's span as a remote parent), or the root context. */
export function contextFromMetadata(api: OtelApi, metadata: Record<string, unknown> | undefined): Otel.Context {
  const tp = metadata?.[TRACE_KEYS.traceparent];
  const m = typeof tp === "string" ? TRACEPARENT.exec(tp) : null;
  if (!m) return api.ROOT_CONTEXT;
  const ts = metadata?.[TRACE_KEYS.tracestate];
  const spanContext: Otel.SpanContext = {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: Number.parseInt(m[3]!, 16),
    isRemote: true,
    ...(typeof ts === "string" && ts ? { traceState: api.createTraceState(ts) } : {}),
  };
  return api.isSpanContextValid(spanContext)
    ? api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext)
    : api.ROOT_CONTEXT;
}
