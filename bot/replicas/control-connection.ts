/**
 * One PostgreSQL connection of this process kept for the replicas' own use: it LISTENs for the
 * bus and holds the background-work leadership (a session advisory lock, freed by the server
 * when the process dies). Lost, it is opened again after a pause; whoever uses it is told both.
 */
import pg from 'pg';
import type { Logger } from '../log.ts';

type Connected = (client: pg.Client) => Promise<void> | void;

export class ControlConnection {
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private readonly connected = new Set<Connected>();
  private readonly lost = new Set<() => void>();
  private readonly notified = new Set<(n: pg.Notification) => void>();

  constructor(
    private readonly url: string,
    private readonly log: Pick<Logger, 'warn' | 'error'>,
    private readonly o: { connectMs: number; queryMs: number; retryMs?: number },
  ) {}

  /** The first connection must open (start-up fails otherwise); later losses are retried. */
  async open(): Promise<void> {
    await this.connect();
  }

  onConnected(fn: Connected): void {
    this.connected.add(fn);
  }

  onLost(fn: () => void): void {
    this.lost.add(fn);
  }

  onNotification(fn: (n: pg.Notification) => void): void {
    this.notified.add(fn);
  }

  get up(): boolean {
    return this.client !== null;
  }

  async query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]> {
    if (!this.client) throw new Error('the replicas control connection is down');
    return (await this.client.query<T>(sql, params)).rows;
  }

  /** A query on it failed (a stall, say): it is no longer trusted, and opened again. */
  reset(e: Error): void {
    if (this.client) this.drop(this.client, e);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.o.connectMs,
      // A stalled server is noticed by the next query (the leadership check runs every few seconds).
      query_timeout: this.o.queryMs,
      keepAlive: true,
    });
    c.on('error', (e) => this.drop(c, e));
    c.on('end', () => this.drop(c));
    c.on('notification', (n) => {
      for (const fn of this.notified) fn(n);
    });
    try {
      await c.connect();
    } catch (e) {
      c.removeAllListeners('end');
      await c.end().catch(() => {});
      throw e;
    }
    if (this.closed) return void (await c.end().catch(() => {}));
    this.client = c;
    try {
      for (const fn of this.connected) await fn(c);
    } catch (e) {
      // Half set up (not listening, say) is not up: closed, and the caller tries again.
      this.client = null;
      await c.end().catch(() => {});
      throw e;
    }
  }

  private drop(c: pg.Client, e?: Error): void {
    if (this.client !== c) return;
    this.client = null;
    for (const fn of this.lost) fn();
    void c.end().catch(() => {});
    if (this.closed) return;
    this.log.warn({ err: e }, 'replicas control connection lost; reconnecting');
    this.reconnect();
  }

  private reconnect(): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.closed) return;
      this.connect().catch((e: Error) => {
        this.log.error({ err: e }, 'replicas control connection failed; trying again');
        this.reconnect();
      });
    }, this.o.retryMs ?? 1_000);
    this.retry.unref();
  }
}
