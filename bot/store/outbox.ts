/**
 * The outbox: every call to an outside system is stored first, then delivered, retried
 * with backoff while it fails, and marked done with its result. At-least-once: the
 * idempotency key travels with the call so a repeat makes nothing twice.
 *
 * Nothing is given up by itself. A failure that may pass (no answer, 5xx) is retried with
 * backoff up to an hour; a refusal that looks like our configuration (401/403/404/429) is
 * retried with backoff up to a minute and marked blocked, so it goes through soon after the
 * key or URL is fixed; a refusal of the call itself (400/422) is held as `invalid` for staff
 * to correct and resend. A delivered entry keeps only what later code needs: personal data
 * in its payload and result is removed or masked.
 */
import { maskPersonalNumbers } from '../privacy.ts';
import type { Database, Queryable } from './database.ts';

export type OutboxStatus = 'pending' | 'done' | 'invalid';

export interface OutboxEntry<P = unknown, R = unknown> {
  id: number;
  kind: string;
  idempotencyKey: string;
  payload: P;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  /** HTTP status of the last failed attempt (0: no answer), null when it was not an HTTP call. */
  lastStatus: number | null;
  /** Set while a refusal that looks like a configuration fault holds the entry (it is still retried). */
  blockedReason: string | null;
  result: R | null;
  nextAttemptAt: Date;
  createdAt: Date;
  /** The staff member who last corrected and resent it. */
  resentBy: string | null;
  resentAt: Date | null;
}

/** Why a delivery failed; see the module comment for what each does. */
export type Fault = 'transient' | 'blocked' | 'invalid';

/** A delivery outcome: done with a result, or failed with its fault. */
export type Delivery<R> = { ok: true; result: R } | { ok: false; error: string; fault: Fault; status?: number };

/** Limits of one call, passed on to the deliverer (a first try in a chat turn is short). */
export interface CallLimits {
  timeoutMs?: number;
  retries?: number;
}
export type Deliverer = (entry: OutboxEntry, call: CallLimits) => Promise<Delivery<unknown>>;

/** How long a claimed entry is left alone while its call runs. */
const LEASE_MS = 60_000;

const COLUMNS = `id, kind, idempotency_key AS "idempotencyKey", payload, status, attempts, last_error AS "lastError",
  last_status AS "lastStatus", blocked_reason AS "blockedReason", result, next_attempt_at AS "nextAttemptAt",
  created_at AS "createdAt", resent_by AS "resentBy", resent_at AS "resentAt"`;
const toEntry = <P, R>(r: OutboxEntry<P, R>): OutboxEntry<P, R> => ({
  ...r,
  id: Number(r.id),
  nextAttemptAt: new Date(r.nextAttemptAt),
  createdAt: new Date(r.createdAt),
  resentAt: r.resentAt ? new Date(r.resentAt) : null,
});

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

export async function getEntry<P = unknown, R = unknown>(db: Queryable, id: number): Promise<OutboxEntry<P, R> | null> {
  const { rows } = await db.query<OutboxEntry<P, R>>(`SELECT ${COLUMNS} FROM outbox WHERE id = $1`, [id]);
  return rows[0] ? toEntry(rows[0]) : null;
}

export interface DeliverOptions {
  /** Backoff after the first failure; doubles each attempt. */
  backoffMs?: number;
  /** Cap of the backoff while the other side may be down (default an hour). */
  maxBackoffMs?: number;
  /** Cap while it refuses us, likely for our configuration (default a minute: a fixed key works soon). */
  blockedMaxBackoffMs?: number;
  now?: () => Date;
  limit?: number;
  /** Deliver only this entry (the first try, right after it was stored). */
  onlyId?: number;
  /** Passed to the deliverer. */
  call?: CallLimits;
}

/** The wait before the next attempt after `attempts` attempts. */
export function backoffDelay(attempts: number, fault: Fault, o: DeliverOptions = {}): number {
  const cap = fault === 'blocked' ? (o.blockedMaxBackoffMs ?? 60_000) : (o.maxBackoffMs ?? 3_600_000);
  // The exponent is bounded so a call retried for weeks still computes a finite delay.
  return Math.min((o.backoffMs ?? 5_000) * 2 ** Math.min(Math.max(attempts - 1, 0), 40), cap);
}

/**
 * Delivers due entries once each. An entry is claimed with a lease (its next attempt moved
 * a minute ahead) in one statement using FOR UPDATE SKIP LOCKED, so several processes
 * sharing a PostgreSQL never deliver it at the same time; the call itself runs outside any
 * transaction, and a process that dies mid-call leaves the entry to be retried when the
 * lease runs out. Returns the entries tried, as they are now (done ones already redacted).
 */
export async function deliverDue(db: Database, deliverers: Record<string, Deliverer>, o: DeliverOptions = {}): Promise<OutboxEntry[]> {
  const now = (o.now ?? (() => new Date()))();
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
      ? await deliver(e, o.call ?? {}).catch((err: Error) => ({ ok: false as const, error: err.message, fault: 'transient' as const }))
      : // A missing deliverer is our setup (callbacks before the server listens): keep it, visibly.
        { ok: false, error: `no deliverer for "${e.kind}"`, fault: 'blocked' };
    const attempts = e.attempts + 1;
    if (outcome.ok) {
      const payload = redact(e.payload);
      const result = redact(outcome.result ?? null);
      await db.query(
        `UPDATE outbox SET status = 'done', attempts = $2, result = $3, payload = $4, redacted_at = now(),
           last_error = NULL, last_status = NULL, blocked_reason = NULL, updated_at = now() WHERE id = $1`,
        [e.id, attempts, JSON.stringify(result), JSON.stringify(payload)],
      );
      delivered.push({ ...e, status: 'done', attempts, payload, result, lastError: null, lastStatus: null, blockedReason: null });
      continue;
    }
    const status: OutboxStatus = outcome.fault === 'invalid' ? 'invalid' : 'pending';
    const next = new Date(now.getTime() + backoffDelay(attempts, outcome.fault, o));
    const blockedReason = outcome.fault === 'blocked' ? outcome.error : null;
    await db.query(
      `UPDATE outbox SET status = $2, attempts = $3, last_error = $4, last_status = $5, blocked_reason = $6, next_attempt_at = $7, updated_at = now()
       WHERE id = $1`,
      [e.id, status, attempts, outcome.error, outcome.status ?? null, blockedReason, next.toISOString()],
    );
    delivered.push({ ...e, status, attempts, lastError: outcome.error, lastStatus: outcome.status ?? null, blockedReason, nextAttemptAt: next });
  }
  return delivered;
}

/** Which stuck entries to list: all waiting, only the blocked ones, or those held as invalid. */
export type StuckFilter = 'pending' | 'blocked' | 'invalid';

export async function listStuck(db: Queryable, filter?: StuckFilter, limit = 100): Promise<OutboxEntry[]> {
  const where =
    filter === 'invalid'
      ? `status = 'invalid'`
      : filter === 'blocked'
        ? `status = 'pending' AND blocked_reason IS NOT NULL`
        : filter === 'pending'
          ? `status = 'pending'`
          : `status <> 'done'`;
  const { rows } = await db.query<OutboxEntry>(`SELECT ${COLUMNS} FROM outbox WHERE ${where} ORDER BY id LIMIT $1`, [limit]);
  return rows.map(toEntry);
}

/** A change to one object inside the payload of an entry: keys set, keys removed. */
export interface PayloadPatch {
  key: string;
  set: Record<string, unknown>;
  remove: string[];
}

/**
 * Makes a held (invalid) or waiting entry due now, with its payload corrected if need be,
 * and records who did it. Null when there is no such entry; a done entry is returned as is.
 */
export async function resendEntry(db: Queryable, id: number, by: string, patch?: PayloadPatch, at = new Date()): Promise<OutboxEntry | null> {
  const params: unknown[] = [id, at.toISOString(), by];
  let payload = 'payload';
  if (patch) {
    // Merged in the statement, so a concurrent change of the entry is not overwritten with an old copy.
    params.push(patch.key, JSON.stringify(patch.set), JSON.stringify(patch.remove));
    payload = `jsonb_set(payload, ARRAY[$4::text], (COALESCE(payload -> $4::text, '{}'::jsonb) || $5::jsonb) - ARRAY(SELECT jsonb_array_elements_text($6::jsonb)))`;
  }
  const { rows } = await db.query<OutboxEntry>(
    `UPDATE outbox SET status = 'pending', payload = ${payload}, attempts = 0, next_attempt_at = $2, blocked_reason = NULL,
       resent_by = $3, resent_at = $2, updated_at = now()
     WHERE id = $1 AND status <> 'done' RETURNING ${COLUMNS}`,
    params,
  );
  return rows[0] ? toEntry(rows[0]) : getEntry(db, id);
}

export interface OutboxHealth {
  /** Calls waiting to be delivered (blocked ones included). */
  pending: number;
  /** Of those, how many the other side refuses in a way that looks like our configuration. */
  blocked: number;
  /** Calls the other side found invalid, held for staff. */
  invalid: number;
  /** Age of the oldest waiting call, in seconds; null when none waits. */
  oldestPendingSeconds: number | null;
  /** What an operator should look at; empty when all is well. */
  warnings: string[];
}

/** A call waiting this long is warned about in /readyz. */
const OUTBOX_STALE_SECONDS = 300;
/**
 * A call waiting longer than this makes /readyz fail: nothing has got through to the platform
 * for ten minutes and someone must look (the calls are kept all the same).
 */
export const OUTBOX_STUCK_SECONDS = 600;

/** A summary for /readyz: warnings for the operator (and the age that makes it unready). */
export async function outboxHealth(db: Queryable, now = new Date(), o: { staleSeconds?: number } = {}): Promise<OutboxHealth> {
  const { rows } = await db.query<{ pending: string; blocked: string; invalid: string; oldest: Date | null; statuses: number[] | null }>(
    `SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
            count(*) FILTER (WHERE status = 'pending' AND blocked_reason IS NOT NULL) AS blocked,
            count(*) FILTER (WHERE status = 'invalid') AS invalid,
            min(created_at) FILTER (WHERE status = 'pending') AS oldest,
            array_agg(DISTINCT last_status) FILTER (WHERE status = 'pending' AND blocked_reason IS NOT NULL AND last_status IS NOT NULL) AS statuses
     FROM outbox WHERE status <> 'done'`,
  );
  const r = rows[0]!;
  const pending = Number(r.pending);
  const blocked = Number(r.blocked);
  const invalid = Number(r.invalid);
  const oldestPendingSeconds = r.oldest ? Math.max(0, Math.round((now.getTime() - new Date(r.oldest).getTime()) / 1000)) : null;
  const warnings: string[] = [];
  if (blocked) {
    const codes = (r.statuses ?? []).map(Number).sort().join('/');
    warnings.push(`${blocked} call(s) refused by the case platform${codes ? ` (${codes})` : ''}: check CASE_PLATFORM_KEY and CASE_PLATFORM_URL; they are retried every minute`);
  }
  if (invalid) warnings.push(`${invalid} call(s) the platform found invalid wait for staff: GET /api/staff/outbox?status=invalid`);
  if (oldestPendingSeconds !== null && oldestPendingSeconds >= (o.staleSeconds ?? OUTBOX_STALE_SECONDS)) warnings.push(`the oldest waiting call is ${oldestPendingSeconds} s old`);
  return { pending, blocked, invalid, oldestPendingSeconds, warnings };
}

// Keys that name or reach a person, or tell where they live; dropped from a delivered entry.
// `steps` are the handling notes of a case, free text the platform wrote.
const PERSONAL_KEYS = new Set(['mobile', 'phone', 'name', 'place', 'address', 'steps']);

/**
 * A delivered entry as it is kept: personal keys removed, numbers in all text masked. What
 * later code reads stays: channel and userId (who to tell), the case type, category and
 * masked description, the case id, unit and due date (told for a repeated submit).
 */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return maskPersonalNumbers(value);
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!PERSONAL_KEYS.has(k)) out[k] = redact(v);
    return out;
  }
  return value;
}

/** Redacts entries delivered before redaction existed (a few per call; run on the retry timer). */
export async function redactDelivered(db: Queryable, limit = 100): Promise<number> {
  const { rows } = await db.query<{ id: number; payload: unknown; result: unknown }>(
    `SELECT id, payload, result FROM outbox WHERE status = 'done' AND redacted_at IS NULL ORDER BY id LIMIT $1`,
    [limit],
  );
  for (const r of rows) {
    await db.query(`UPDATE outbox SET payload = $2, result = $3, redacted_at = now() WHERE id = $1 AND redacted_at IS NULL`, [
      r.id,
      JSON.stringify(redact(r.payload)),
      JSON.stringify(redact(r.result ?? null)),
    ]);
  }
  return rows.length;
}
