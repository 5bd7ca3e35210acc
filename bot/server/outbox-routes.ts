/**
 * Staff API for calls to the case platform that did not go through: those still waiting
 * (blocked ones are refused in a way that looks like our configuration) and those the
 * platform found invalid, with their payload to correct and resend. Any staff member may
 * look (the citizen's mobile masked); only handlers resend.
 *
 *   GET  /api/staff/outbox?status=pending|blocked|invalid[&limit=100]
 *   POST /api/staff/outbox/:id/resend   {"newCase": {"description": "…", "category": "…", "place": "…", "type": "投诉"}}
 */
import express, { Router, type Response } from 'express';
import type { CaseService, CaseFix } from '../cases/service.ts';
import { provisionalReference } from '../cases/service.ts';
import type { Database } from '../store/database.ts';
import { getEntry, listStuck, type OutboxEntry, type StuckFilter } from '../store/outbox.ts';
import { maskValue } from '../privacy.ts';
import { CASE_TYPES } from '../../integrations/case-platform/types.ts';
import { wellFormed } from '../storable-text.ts';
import type { StaffAuth } from './staff-routes.ts';

const FILTERS = new Set<StuckFilter>(['pending', 'blocked', 'invalid']);
const FIX_FIELDS = new Set(['type', 'description', 'category', 'place']);
const MAX_LIMIT = 500;

type AuditFn = (action: string, o?: { target?: string; outcome?: 'ok' | 'failed' | 'denied'; details?: Record<string, unknown> }) => Promise<void>;
// The audit writer staffAuth sets, when there is one.
const audit = (res: Response): AuditFn => (res.locals.audit as AuditFn | undefined) ?? (async () => {});


export function outboxView(e: OutboxEntry) {
  return {
    id: e.id,
    kind: e.kind,
    status: e.status,
    blocked: e.status === 'pending' && e.blockedReason !== null,
    ...(e.kind === 'create_case' ? { reference: provisionalReference(e.id) } : {}),
    attempts: e.attempts,
    lastError: e.lastError,
    lastStatus: e.lastStatus,
    nextAttemptAt: e.status === 'pending' ? e.nextAttemptAt.toISOString() : null,
    createdAt: e.createdAt.toISOString(),
    resentBy: e.resentBy,
    resentAt: e.resentAt?.toISOString() ?? null,
    // Staff see whose case it is and what it says, not the numbers.
    payload: maskValue(e.payload),
  };
}

/** The corrected fields of a new case, or why they are not acceptable. */
export function parseFix(body: unknown): { fix?: CaseFix } | { error: string } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return { error: 'body must be a JSON object, e.g. {"newCase": {"description": "…"}}' };
  const extra = Object.keys(body).filter((k) => k !== 'newCase');
  if (extra.length) return { error: `unknown field(s): ${extra.join(', ')} (only "newCase")` };
  const n = (body as { newCase?: unknown }).newCase;
  if (n === undefined) return {};
  if (!n || typeof n !== 'object' || Array.isArray(n)) return { error: 'newCase must be an object' };
  const unknown = Object.keys(n).filter((k) => !FIX_FIELDS.has(k));
  if (unknown.length) return { error: `newCase may correct only ${[...FIX_FIELDS].join(', ')} (not ${unknown.join(', ')})` };
  const f = n as Record<string, unknown>;
  const fix: CaseFix = {};
  for (const k of ['description', 'category', 'place'] as const) {
    if (f[k] === undefined) continue;
    if (typeof f[k] !== 'string' || !wellFormed(f[k])) return { error: `newCase.${k} must be text without control characters` };
  }
  if (f.type !== undefined) {
    if (!(CASE_TYPES as readonly unknown[]).includes(f.type)) return { error: `newCase.type must be one of ${CASE_TYPES.join('、')}` };
    fix.type = f.type as CaseFix['type'];
  }
  if (typeof f.description === 'string') {
    const d = f.description.trim();
    if ([...d].length < 10 || [...d].length > 2000) return { error: 'newCase.description must be 10 to 2000 characters' };
    fix.description = d;
  }
  if (typeof f.category === 'string') {
    const c = f.category.trim();
    if (!c || [...c].length > 50) return { error: 'newCase.category must be 1 to 50 characters' };
    fix.category = c;
  }
  if (typeof f.place === 'string') {
    const p = f.place.trim();
    if ([...p].length > 200) return { error: 'newCase.place must be at most 200 characters ("" removes it)' };
    fix.place = p;
  }
  return { fix };
}

/**
 * @param auth    who is calling (staffAuth, with its CSRF check and audit)
 * @param handlers only handlers may resend (handlersOnly)
 */
export function outboxRoutes(db: Database, auth: StaffAuth, handlers: StaffAuth, cases: CaseService): Router {
  const router = Router();

  router.get('/api/staff/outbox', auth, async (req, res) => {
    const status = req.query.status;
    if (status !== undefined && (typeof status !== 'string' || !FILTERS.has(status as StuckFilter))) {
      return void res.status(400).json({ error: 'status must be pending, blocked or invalid' });
    }
    const limitText = req.query.limit;
    const limit = limitText === undefined ? 100 : typeof limitText === 'string' && /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) return void res.status(400).json({ error: `limit must be a whole number from 1 to ${MAX_LIMIT}` });
    const entries = await listStuck(db, status as StuckFilter | undefined, limit);
    await audit(res)('outbox.list', { details: { status: status ?? 'all', count: entries.length } });
    res.json({ entries: entries.map(outboxView) });
  });

  router.post('/api/staff/outbox/:id/resend', auth, handlers, express.json({ limit: '32kb' }), async (req, res) => {
    const idText = String(req.params.id);
    if (!/^\d{1,15}$/.test(idText)) return void res.status(400).json({ error: 'id must be a number' });
    const id = Number(idText);
    // express.json leaves no body ({}) for a request without one: a resend unchanged.
    const parsed = parseFix(req.body);
    if ('error' in parsed) return void res.status(400).json({ error: parsed.error });
    const by = (res.locals.staff as { username?: string } | undefined)?.username ?? 'staff';
    if (parsed.fix) {
      const stored = (await getEntry(db, id))?.kind;
      if (stored && stored !== 'create_case') return void res.status(400).json({ error: `a ${stored} call has no newCase to correct: resend it without a body` });
    }
    const r = await cases.resend(id, by, parsed.fix);
    if (r.kind === 'missing') {
      await audit(res)('outbox.resend', { target: idText, outcome: 'failed', details: { reason: 'no such entry' } });
      return void res.status(404).json({ error: 'no such outbox entry' });
    }
    if (r.kind === 'already_done') {
      await audit(res)('outbox.resend', { target: idText, outcome: 'failed', details: { reason: 'already delivered' } });
      return void res.status(409).json({ error: 'this call was delivered already', entry: outboxView(r.entry) });
    }
    const e = r.entry;
    await audit(res)('outbox.resend', { target: idText, outcome: 'ok', details: { fields: Object.keys(parsed.fix ?? {}), status: e.status } });
    const c = e.status === 'done' && e.kind === 'create_case' ? (e.result as { id?: string } | null) : null;
    res.json({ entry: outboxView(e), ...(c?.id ? { caseId: c.id } : {}) });
  });

  return router;
}
