/**
 * The outbox: every call to an outside system is stored first, then delivered, retried
 * with backoff while it fails for a reason that may pass, and marked done with its result.
 * At-least-once: the idempotency key travels with the call so a repeat makes nothing twice.
 */
import type { Database, Queryable } from './database.ts';

export interface OutboxEntry<P = unknown, R = unknown> {
  id: number;
  kind: string;
  idempotencyKey: string;
  payload: P;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  lastError: string | null;
  result: R | null;
}

/** A delivery outcome: done with a result, or failed (retryable or not). */
export type Delivery<R> = { ok: true; result: R } | { ok: false; error: string; retryable: boolean };
export type Deliverer = (entry: OutboxEntry) => Promise<Delivery<unknown>>;

/** How long a claimed entry is left alone while its call runs. */
const LEASE_MS = 60_000;

const COLUMNS = `id, kind, idempotency_key AS "idempotencyKey", payload, status, attempts, last_error AS "lastError", result`;
const toEntry = <P, R>(r: OutboxEntry<P, R>): OutboxEntry<P, R> => ({ ...r, id: Number(r.id) });

/**
 * Stores a call; the same idempotency key returns the entry already stored. It is due at
 * once by the same (JavaScript) clock deliverDue uses: the database's now() has
 * microseconds and could be a hair later than a millisecond Date taken right after.
 */
export async function enqueue<P>(db: Queryable, kind: string, idempotencyKey: string, payload: P, at = new Date()): Promise<OutboxEntry<P>> {
  const { rows } = await db.query<OutboxEntry<P>>(
    `INSERT INTO outbox (kind, idempotency_key, payload, next_attempt_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (idempotency_key) DO UPDATE SET updated_at = outbox.updated_at
     RETURNING ${COLUMNS}`,
    [kind, idempotencyKey, JSON.stringify(payload), at.toISOString()],
  );
  return toEntry(rows[0]!);
}

export async function getEntry<P = unknown, R = unknown>(db: Database, id: number): Promise<OutboxEntry<P, R> | null> {
  const { rows } = await db.query<OutboxEntry<P, R>>(`SELECT ${COLUMNS} FROM outbox WHERE id = $1`, [id]);
  return rows[0] ? toEntry(rows[0]) : null;
}

export interface DeliverOptions {
  maxAttempts?: number;
  /** Backoff after the first failure; doubles each attempt, capped at an hour. */
  backoffMs?: number;
  now?: () => Date;
  limit?: number;
  /** Deliver only this entry (the first try, right after it was stored). */
  onlyId?: number;
}

/**
 * Delivers due entries once each. An entry is claimed with a lease (its next attempt moved
 * a minute ahead) in one statement using FOR UPDATE SKIP LOCKED, so several processes
 * sharing a PostgreSQL never deliver it at the same time; the call itself runs outside any
 * transaction, and a process that dies mid-call leaves the entry to be retried when the
 * lease runs out.
 */
export async function deliverDue(db: Database, deliverers: Record<string, Deliverer>, o: DeliverOptions = {}): Promise<OutboxEntry[]> {
  const now = (o.now ?? (() => new Date()))();
  const maxAttempts = o.maxAttempts ?? 10;
  const backoff = o.backoffMs ?? 5_000;
  const lease = new Date(now.getTime() + LEASE_MS);
  const delivered: OutboxEntry[] = [];
  for (let i = 0; i < (o.limit ?? 50); i++) {
    const { rows } = await db.query<OutboxEntry>(
      `UPDATE outbox SET next_attempt_at = $2, updated_at = now()
       WHERE id = (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 AND ($3::bigint IS NULL OR id = $3)
                   ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [now.toISOString(), lease.toISOString(), o.onlyId ?? null],
    );
    if (!rows[0]) break;
    const e = toEntry(rows[0]);
    const deliver = deliverers[e.kind];
    const outcome: Delivery<unknown> = deliver
      ? await deliver(e).catch((err: Error) => ({ ok: false as const, error: err.message, retryable: true }))
      : { ok: false, error: `no deliverer for "${e.kind}"`, retryable: false };
    const attempts = e.attempts + 1;
    if (outcome.ok) {
      await db.query(`UPDATE outbox SET status = 'done', attempts = $2, result = $3, last_error = NULL, updated_at = now() WHERE id = $1`, [
        e.id,
        attempts,
        JSON.stringify(outcome.result ?? null),
      ]);
      delivered.push({ ...e, status: 'done', attempts, result: outcome.result, lastError: null });
      continue;
    }
    const giveUp = !outcome.retryable || attempts >= maxAttempts;
    const next = new Date(now.getTime() + Math.min(backoff * 2 ** (attempts - 1), 3_600_000));
    await db.query(`UPDATE outbox SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5, updated_at = now() WHERE id = $1`, [
      e.id,
      giveUp ? 'failed' : 'pending',
      attempts,
      outcome.error,
      next.toISOString(),
    ]);
    delivered.push({ ...e, status: giveUp ? 'failed' : 'pending', attempts, lastError: outcome.error });
  }
  return delivered;
}
