/**
 * The bus over PostgreSQL's LISTEN/NOTIFY: every replica listens on one channel; a message
 * names its sender and topic. One larger than a NOTIFY payload may be (8000 bytes) is stored
 * in bus_messages and sent by reference; such rows are kept a few minutes only (they may
 * carry what was said to a citizen).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
import type { Logger } from '../log.ts';
import type { Queryable } from '../store/database.ts';
import { Topics, type Bus, type BusHandler } from './bus.ts';
import type { ControlConnection } from './control-connection.ts';

/** Below PostgreSQL's 8000-byte limit, with room for the envelope. */
const MAX_INLINE_BYTES = 7_000;
const KEEP_BY_REFERENCE = '5 minutes';

interface Envelope {
  from: string;
  topic: string;
  message?: unknown;
  ref?: number;
}

export class PostgresBus implements Bus {
  readonly replica = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly topics = new Topics();
  /** Messages are handled one after another, in the order they arrived. */
  private chain: Promise<void> = Promise.resolve();
  private listened = false;
  private readonly resumed = new Set<() => void>();

  constructor(
    private readonly control: ControlConnection,
    private readonly db: Queryable,
    private readonly log: Pick<Logger, 'error'>,
    /** One channel per deployment (the schema its replicas work in). */
    private readonly channel: string,
  ) {
    control.onConnected(async (c: pg.Client) => {
      await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
      if (this.listened) for (const fn of this.resumed) fn();
      this.listened = true;
    });
    control.onNotification((n) => {
      if (n.channel !== channel || !n.payload) return;
      const payload = n.payload;
      this.chain = this.chain.then(() => this.receive(payload)).catch((e: unknown) => this.log.error({ err: e }, 'bus message failed'));
    });
  }

  async publish(topic: string, message: unknown): Promise<void> {
    let payload = JSON.stringify({ from: this.replica, topic, message } satisfies Envelope);
    if (Buffer.byteLength(payload) > MAX_INLINE_BYTES) {
      const { rows } = await this.db.query<{ id: string }>(
        `WITH purged AS (DELETE FROM bus_messages WHERE sent_at < now() - interval '${KEEP_BY_REFERENCE}')
         INSERT INTO bus_messages (payload) VALUES ($1) RETURNING id`,
        [JSON.stringify(message)],
      );
      payload = JSON.stringify({ from: this.replica, topic, ref: Number(rows[0]!.id) } satisfies Envelope);
    }
    await this.db.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
  }

  subscribe(topic: string, handler: BusHandler): () => void {
    return this.topics.subscribe(topic, handler);
  }

  onResume(fn: () => void): void {
    this.resumed.add(fn);
  }

  async close(): Promise<void> {
    await this.chain;
  }

  private async receive(payload: string): Promise<void> {
    const e = JSON.parse(payload) as Envelope;
    if (e.from === this.replica) return;
    let message = e.message;
    if (e.ref !== undefined) {
      const { rows } = await this.db.query<{ payload: unknown }>('SELECT payload FROM bus_messages WHERE id = $1', [e.ref]);
      if (!rows[0]) return; // purged: too old to matter
      message = rows[0].payload;
    }
    await this.topics.dispatch(e.topic, message, (err) => this.log.error({ err, topic: e.topic }, 'bus handler failed'));
  }
}
