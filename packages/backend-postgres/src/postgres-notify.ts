import pg from "pg";

/**
 * Wake-ups over LISTEN/NOTIFY: one dedicated connection per backend (opened at the first subscriber) LISTENs
 * on the schema's channel; writes that make work ready call pg_notify in their transaction, so listeners hear
 * of it at commit. The connection reconnects with backoff after a drop, and fires one wake-up on every
 * (re)connect because notifications sent while it was away are lost.
 */
export class PostgresNotifier {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | null = null;
  private connecting = false;
  private closed = false;
  private retryMs = 50;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
  ) {}

  /** Registers a listener; returns its unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.client && !this.connecting) void this.connect();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== null;
  }

  private fire(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // A listener's failure is its own; the others still hear the wake-up.
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.connecting = true;
    const client = new pg.Client(this.config);
    let dropped = false;
    const onDrop = (): void => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on("error", onDrop);
    client.on("end", onDrop);
    client.on("notification", (msg) => {
      if (msg.channel === this.channel) this.fire();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
      if (this.closed || dropped) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      this.retryMs = 50;
      this.fire();
    } catch {
      onDrop();
    } finally {
      this.connecting = false;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5000);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => {});
  }
}
