/**
 * The staff API: who is calling (a session cookie from the login page, or a system with the
 * bearer STAFF_API_TOKEN), CSRF protection of every cookie-authenticated change, roles, the
 * hand-over queue and the audit log. Nothing here is cached by browsers or proxies.
 */
import { timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Database } from '../store/database.ts';
import { AUDIT_MAX_LIMIT, appendAudit, listAudit, type AuditOutcome } from '../store/audit.ts';
import { sessionOf, type StaffRole, type StaffUser } from '../store/staff.ts';
import { listHandoffs, releaseConversation } from '../store/conversations.ts';

export type StaffAuth = (req: Request, res: Response, next: NextFunction) => void;
export type Audit = (action: string, o?: { target?: string; outcome?: AuditOutcome; details?: Record<string, unknown> }) => Promise<void>;

export const SESSION_COOKIE = 'xiaoan_staff';
export const CSRF_HEADER = 'x-csrf-token';
/** The hidden form field that carries the CSRF token of a plain HTML form (logout). */
export const CSRF_FIELD = '_csrf';

export { cookie } from './cookies.ts';
import { cookie } from './cookies.ts';

export function sessionCookie(req: Request, value: string, maxAgeSeconds: number): string {
  // Secure whenever the browser reached us over HTTPS (directly, or via a trusted proxy).
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${req.secure ? '; Secure' : ''}`;
}

export const noStore = (_req: Request, res: Response, next: NextFunction) => {
  res.setHeader('cache-control', 'no-store');
  next();
};

/**
 * Why a browser request is not from our own pages, or null when it is: Sec-Fetch-Site must say
 * same-origin (a same-site page on another port or subdomain is refused too); without it, the
 * Origin must be exactly ours. A request with neither is refused.
 */
export function originProblem(req: Request): string | null {
  const site = req.get('sec-fetch-site');
  if (site) return site === 'same-origin' ? null : `Sec-Fetch-Site: ${site}`;
  const origin = req.get('origin');
  if (!origin) return 'no Origin header';
  return origin.toLowerCase() === `${req.protocol}://${req.host ?? ''}`.toLowerCase() ? null : `Origin: ${origin}`;
}

export function sameToken(given: unknown, want: string): boolean {
  if (typeof given !== 'string' || !given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const ORIGIN_REFUSED = '请求来源不是本系统页面，已拒绝 (cross-origin request refused)';
export const CSRF_REFUSED = '缺少或无效的 CSRF 令牌，请刷新页面后重试 (missing or invalid CSRF token)';

/** The audit log writer of this request (set by staffAuth). */
export const auditOf = (res: Response): Audit => res.locals.audit as Audit;
export const staffOf = (res: Response): StaffUser => res.locals.staff as StaffUser;

/**
 * Who is calling the staff API: a staff member with a session cookie (from the login page),
 * or a system with the bearer STAFF_API_TOKEN. Sets res.locals.staff = {username, role} and
 * res.locals.audit. A change made with the cookie must come from our own pages and carry the
 * session's CSRF token; a bearer caller sends no cookie, so it cannot be forged and is exempt.
 */
// Not supervisor: the audit log is read by people, not by the systems it records.
const SYSTEM_ROLES: StaffRole[] = ['agent', 'hotline', 'handler'];

export function staffAuth(db: Database, token: string | undefined): StaffAuth {
  const writer = (req: Request, actor: string): Audit => (action, o = {}) => appendAudit(db, { actor, action, address: req.ip, ...o });
  return (req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    const bearer = (req.get('authorization') ?? '').replace(/^Bearer\s+/i, '');
    if (bearer && token && sameToken(bearer, token)) {
      // A system (a hotline or case platform of the bureau) works the desk, the inbox and the assistant.
      res.locals.staff = { username: 'system', roles: SYSTEM_ROLES, system: true } satisfies StaffUser;
      res.locals.audit = writer(req, 'system');
      return next();
    }
    const session = cookie(req, SESSION_COOKIE);
    if (!session) return void res.status(401).json({ error: 'unauthorized: log in at /staff/login' });
    (async () => {
      const s = await sessionOf(db, session);
      if (!s) return void res.status(401).json({ error: 'session expired: log in again at /staff/login' });
      const audit = writer(req, s.username);
      if (!SAFE_METHODS.has(req.method)) {
        const problem = originProblem(req);
        if (problem || !sameToken(req.get(CSRF_HEADER), s.csrfToken)) {
          await audit('csrf', { target: req.path, outcome: 'denied', details: { method: req.method, reason: problem ?? 'CSRF token' } });
          return void res.status(403).json({ error: problem ? ORIGIN_REFUSED : CSRF_REFUSED });
        }
      }
      res.locals.staff = { username: s.username, roles: s.roles, unit: s.unit ?? null, displayName: s.displayName ?? null } satisfies StaffUser;
      res.locals.csrfToken = s.csrfToken;
      res.locals.audit = audit;
      next();
    })().catch(next);
  };
}

/** Only staff of one of these roles; the refusal is audited. */
export function rolesOnly(...roles: StaffRole[]): StaffAuth {
  return (req, res, next) => {
    const held = staffOf(res)?.roles ?? [];
    if (roles.some((r) => held.includes(r))) return next();
    auditOf(res)('access', { target: req.path, outcome: 'denied', details: { method: req.method, roles: held } }).then(
      () => void res.status(403).json({ error: roles.length === 1 && roles[0] === 'handler' ? 'only case handlers may do this' : `only ${roles.join(' or ')} staff may do this` }),
      next,
    );
  };
}

/** Only case handlers may change a case or a chat; supervisors watch and follow up. */
export const handlersOnly = rolesOnly('handler');

function parseTime(v: string, name: string): Date | string {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00+08:00` : v);
  return Number.isNaN(d.getTime()) ? `${name} 不是有效的时间，请用 ISO 8601，例如 2025-05-01 或 2025-05-01T08:00:00Z` : d;
}

export function staffRoutes(db: Database, auth: StaffAuth): Router {
  const router = Router();
  router.get('/api/staff/me', auth, (_req, res) => {
    const me = staffOf(res);
    // `role` (the first) stays for callers written when there was one role per account.
    res.json({ ...me, role: me.roles[0], ...(res.locals.csrfToken ? { csrfToken: res.locals.csrfToken as string } : {}) });
  });

  router.get('/api/staff/handoffs', auth, async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : 'open';
    const handoffs = await listHandoffs(db, status);
    await auditOf(res)('handoffs.list', { details: { status, count: handoffs.length } });
    res.json({ handoffs });
  });

  router.post('/api/staff/conversations/:channel/:userId/release', auth, rolesOnly('agent', 'handler'), async (req, res) => {
    const target = `${String(req.params.channel)}/${String(req.params.userId)}`;
    const released = await releaseConversation(db, String(req.params.channel), String(req.params.userId));
    await auditOf(res)('conversation.release', { target, outcome: released ? 'ok' : 'failed' });
    if (!released) return void res.status(404).json({ error: 'no handed-over conversation for this user' });
    res.json({ released: true });
  });

  // The audit log, for supervisors: read-only, newest first. No endpoint changes it.
  router.get('/api/staff/audit', auth, rolesOnly('supervisor'), async (req, res) => {
    const q: Record<string, string> = {};
    for (const key of ['actor', 'action', 'since', 'until', 'limit']) {
      const v = req.query[key];
      if (v === undefined || v === '') continue;
      if (typeof v !== 'string' || v.length > 100) return void res.status(400).json({ error: `参数 ${key} 只能给一个，且不超过 100 个字符` });
      q[key] = v;
    }
    const since = q.since ? parseTime(q.since, 'since') : undefined;
    const until = q.until ? parseTime(q.until, 'until') : undefined;
    for (const t of [since, until]) if (typeof t === 'string') return void res.status(400).json({ error: t });
    if (q.limit && !(/^\d+$/.test(q.limit) && Number(q.limit) >= 1 && Number(q.limit) <= AUDIT_MAX_LIMIT)) {
      return void res.status(400).json({ error: `limit 必须是 1 到 ${AUDIT_MAX_LIMIT} 之间的整数` });
    }
    const entries = await listAudit(db, { actor: q.actor, action: q.action, since: since as Date | undefined, until: until as Date | undefined, limit: q.limit ? Number(q.limit) : undefined });
    await auditOf(res)('audit.view', { details: { ...q, count: entries.length } });
    res.json({ entries });
  });
  return router;
}
