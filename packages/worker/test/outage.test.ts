import { createConnection, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { PostgresBackend } from "@cairn/backend-postgres";
import { startWorker, submit, waitForRun, type WorkerHandle } from "../src/index.js";
import { describePostgres, freshSchema } from "../../../test-support/postgres.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** A TCP proxy in front of the real Postgres server that can cut every connection and refuse new ones (an outage). */
class Outage {
  private readonly sockets = new Set<Socket>();
  private down = false;
  readonly server: Server;
  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.down) return void client.destroy();
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("error", () => undefined);
        s.on("close", () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return (this.server.address() as { port: number }).port;
  }
  /** Cuts every open connection and refuses new ones until `up()`. */
  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }
  up(): void {
    this.down = false;
  }
  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describePostgres("a database outage shorter than the stale threshold", () => {
  let worker: WorkerHandle | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await worker?.stop({ urgent: true });
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("costs no re-execution: the step's result is written once the server is reachable again", async () => {
    const { url, schema, drop } = await freshSchema("outage");
    cleanups.push(drop);
    const target = new URL(url);
    const proxy = new Outage({ host: target.hostname, port: Number(target.port || 5432) });
    const port = await proxy.listen();
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(url);
    viaProxy.port = String(port);
    const backend = new PostgresBackend({ connectionString: viaProxy.toString(), schema, listen: false });
    await backend.initialize();
    cleanups.push(() => backend.close());
    worker = await startWorker({
      backend,
      workflowsDir: FIXTURES,
      concurrency: 2,
      heartbeatMs: 200,
      staleMs: 20_000,
      pollMs: 50,
    });
    const { runId } = await submit(backend, { workflow: "slow", input: { ms: 1200 } });
    await new Promise((r) => setTimeout(r, 600)); // the step is running
    proxy.cut();
    await new Promise((r) => setTimeout(r, 2000)); // the step ends (at 1.2 s) while the server is unreachable
    proxy.up();
    const { run } = await waitForRun(backend, runId, { pollMs: 50 });
    expect(run.status).toBe("completed");
    const events = await backend.loadEvents("slow", runId, { category: "step", stepId: "wait" });
    expect(events.filter((e) => e.type === "StepStarted")).toHaveLength(1);
    expect(events.filter((e) => e.type === "StepCompleted").map((e) => e.attemptNumber)).toEqual([1]);
    expect(events.some((e) => e.type === "StepReclaimed" || e.type === "StepFailed")).toBe(false);
  });
});
