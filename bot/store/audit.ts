/**
 * The audit log: who did what to what, when and from which address. Append-only — the
 * database refuses UPDATE, DELETE and TRUNCATE on it (migration 010) — and personal numbers
 * are masked before a row is written.
 */
import { maskPersonalNumbers } from '../privacy.ts';
import type { Queryable } from './database.ts';

export type AuditOutcome = 'ok' | 'failed' | 'denied';

export interface AuditEntry {
  /** A staff username, "system" (the bearer STAFF_API_TOKEN), "cli", or the name tried at a failed login. */
  actor: string;
  action: string;
  target?: string | null;
  address?: string | null;
  outcome?: AuditOutcome;
  details?: Record<string, unknown>;
}

export interface AuditRow extends Required<Omit<AuditEntry, 'target' | 'address'>> {
  id: number;
  at: string;
  target: string | null;
  address: string | null;
}

const MAX_TEXT = 500;

/** Masks every string in a value; long strings are cut so one row stays small. */
function masked(v: unknown): unknown {
  if (typeof v === 'string') return maskPersonalNumbers(v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT)}…` : v);
  if (Array.isArray(v)) return v.map(masked);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)]));
  return v;
}

const cut = (s: string | null | undefined, n = 200) => (s == null ? null : maskPersonalNumbers(s.slice(0, n)));

export async function appendAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, target, address, outcome, details) VALUES ($1, $2, $3, $4, $5, $6)', [
    cut(e.actor, 100),
    e.action,
    cut(e.target),
    e.address?.slice(0, 100) ?? null,
    e.outcome ?? 'ok',
    JSON.stringify(masked(e.details ?? {})),
  ]);
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  since?: Date;
  until?: Date;
  limit?: number;
}

export const AUDIT_MAX_LIMIT = 1000;

/** Entries matching every given filter, newest first. */
export async function listAudit(db: Queryable, q: AuditQuery = {}): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.actor) add('actor = ?', q.actor);
  if (q.action) add('action = ?', q.action);
  if (q.since) add('at >= ?', q.since.toISOString());
  if (q.until) add('at < ?', q.until.toISOString());
  params.push(Math.min(Math.max(1, q.limit ?? 100), AUDIT_MAX_LIMIT));
  const { rows } = await db.query<Omit<AuditRow, 'at' | 'id'> & { id: number | string; at: Date | string }>(
    `SELECT id, at, actor, action, target, address, outcome, details FROM audit_log
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), at: new Date(r.at).toISOString() }));
}
