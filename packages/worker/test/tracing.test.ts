import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { Backend } from "@cairn/backend-interface";
import { openBackend, startWorker, submit, waitForRun, type WorkerHandle } from "../src/index.js";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows", import.meta.url));
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let dir: string;
let backend: Backend;
let worker: WorkerHandle;

beforeAll(async () => {
  provider.register();
  dir = await mkdtemp(join(tmpdir(), "cairn-otel-"));
  backend = await openBackend(`sqlite:${join(dir, "cairn.db")}`);
  worker = await startWorker({ backend, workflowsDir: EXAMPLES, pollMs: 20, presenceMs: 60_000 });
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
  await provider.shutdown();
  trace.disable();
  await rm(dir, { recursive: true, force: true });
});

/** Submits inside an active "request" span, as an instrumented application would, and waits for the run to end. */
async function submitTraced(workflow: string, input?: unknown): Promise<{ runId: string; request: ReadableSpan }> {
  const tracer = trace.getTracer("test-app");
  const { runId } = await tracer.startActiveSpan("request", async (span) => {
    try {
      return await submit(backend, { workflow, ...(input === undefined ? {} : { input }) });
    } finally {
      span.end();
    }
  });
  await waitForRun(backend, runId, { pollMs: 20 });
  const request = exporter
    .getFinishedSpans()
    .find((s) => s.name === "request" && s.attributes["cairn.run_id"] === undefined && !seen.has(s))!;
  seen.add(request);
  return { runId, request };
}
const seen = new Set<ReadableSpan>();

/** The spans of one run, once its run span has ended. */
async function spansOf(runId: string): Promise<{ run: ReadableSpan; steps: ReadableSpan[] }> {
  for (let i = 0; i < 200; i++) {
    const spans = exporter.getFinishedSpans().filter((s) => s.attributes["cairn.run_id"] === runId);
    const run = spans.find((s) => s.name.startsWith("cairn.run "));
    if (run) return { run, steps: spans.filter((s) => s.name.startsWith("cairn.step ")) };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no run span for ${runId}`);
}

describe("OpenTelemetry traces (in-memory exporter)", () => {
  it("the submitter's trace context is stored on the run, and the run and step spans join that trace", async () => {
    const { runId, request } = await submitTraced("hello", { name: "Ada" });
    const stored = await backend.getRun(runId);
    expect(stored?.metadata?.traceparent).toBe(
      `00-${request.spanContext().traceId}-${request.spanContext().spanId}-01`,
    );
    const { run, steps } = await spansOf(runId);
    expect(run.name).toBe("cairn.run hello");
    expect(run.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(run.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(run.attributes).toMatchObject({
      "cairn.workflow": "hello",
      "cairn.run_id": runId,
      "cairn.run_status": "completed",
    });
    expect(steps.map((s) => s.name).sort()).toEqual(["cairn.step compose", "cairn.step greet"]);
    for (const s of steps) {
      expect(s.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(s.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
      expect(s.attributes).toMatchObject({
        "cairn.workflow": "hello",
        "cairn.run_id": runId,
        "cairn.attempt": 1,
        "cairn.step_outcome": "completed",
      });
    }
  });

  it("a span per step attempt: failed attempts carry the error as an exception event and an error status", async () => {
    const { runId } = await submitTraced("flaky");
    const { run, steps } = await spansOf(runId);
    const attempts = steps
      .filter((s) => s.attributes["cairn.step_id"] === "call-api")
      .sort((a, b) => Number(a.attributes["cairn.attempt"]) - Number(b.attributes["cairn.attempt"]));
    expect(attempts.map((s) => s.attributes["cairn.attempt"])).toEqual([1, 2, 3]);
    for (const failed of attempts.slice(0, 2)) {
      expect(failed.status.code).toBe(SpanStatusCode.ERROR);
      const exception = failed.events.find((e) => e.name === "exception");
      expect(exception?.attributes?.["exception.message"]).toMatch(/upstream returned 503/);
      expect(String(exception?.attributes?.["exception.stacktrace"])).toContain("call-api.ts");
    }
    expect(attempts[2]!.status.code).not.toBe(SpanStatusCode.ERROR);
    for (const s of attempts) expect(s.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
  });

  it("a run submitted with no active span starts its own trace", async () => {
    const { runId } = await submit(backend, { workflow: "hello", input: { name: "Root" } });
    expect((await backend.getRun(runId))?.metadata?.traceparent).toBeUndefined();
    await waitForRun(backend, runId, { pollMs: 20 });
    const { run, steps } = await spansOf(runId);
    expect(run.parentSpanContext).toBeUndefined();
    expect(steps.every((s) => s.spanContext().traceId === run.spanContext().traceId)).toBe(true);
  });

  it("with the API installed but no SDK registered, nothing is traced and runs carry no trace context", async () => {
    trace.disable(); // back to the API's no-op provider, as in an application that never set one up
    const before = exporter.getFinishedSpans().length;
    const { runId } = await trace.getTracer("test-app").startActiveSpan("request", async (span) => {
      try {
        return await submit(backend, { workflow: "hello", input: { name: "Quiet" } });
      } finally {
        span.end();
      }
    });
    const done = await waitForRun(backend, runId, { pollMs: 20 });
    expect(done.run.status).toBe("completed");
    expect(done.run.metadata).toBeUndefined();
    expect(exporter.getFinishedSpans().length).toBe(before);
  });
});
