/**
 * The staff pages: a login form (throttled, Origin-checked), server-rendered, and the staff
 * console (web/console, built by Vite) behind a session that expires. Logout is a form POST
 * with the session's CSRF token.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import { PROJECT_ROOT } from '../config.ts';
import type { Database } from '../store/database.ts';
import { appendAudit } from '../store/audit.ts';
import { login, logout, sessionOf } from '../store/staff.ts';
import { CSRF_FIELD, CSRF_REFUSED, ORIGIN_REFUSED, cookie, noStore, originProblem, sameToken, SESSION_COOKIE, sessionCookie } from './staff-routes.ts';

const PAGES = path.join(PROJECT_ROOT, 'web', 'staff');
/** The console as `npm run build:console` (run by `npm install`) leaves it. */
export const CONSOLE_DIST = path.join(PROJECT_ROOT, 'web', 'console', 'dist');
const MAX_FIELD = 200;

export function staffPages(db: Database, sessionHours: number): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });
  // The console's code: content-hashed file names, so cached for long; nothing in them is personal.
  router.use('/staff/assets', express.static(path.join(CONSOLE_DIST, 'assets'), { immutable: true, maxAge: '30d', index: false, fallthrough: false }));
  router.use('/staff', noStore);

  const refuseForeign = async (req: Request, res: Response, actor: string): Promise<boolean> => {
    const problem = originProblem(req);
    if (!problem) return false;
    await appendAudit(db, { actor, action: 'csrf', target: req.path, address: req.ip, outcome: 'denied', details: { method: req.method, reason: problem } });
    res.status(403).json({ error: ORIGIN_REFUSED });
    return true;
  };

  router.get('/staff/login', (_req, res) => res.sendFile(path.join(PAGES, 'login.html')));
  router.get('/staff/login.js', (_req, res) => res.sendFile(path.join(PAGES, 'login.js')));
  router.get('/staff/staff.css', (_req, res) => res.sendFile(path.join(PAGES, 'staff.css')));

  router.post('/staff/login', form, async (req, res) => {
    const { username, password } = (req.body ?? {}) as { username?: unknown; password?: unknown };
    const name = typeof username === 'string' ? username.trim().slice(0, MAX_FIELD) : '';
    // Login CSRF (signing a victim into an attacker's account) is stopped by the Origin check.
    if (await refuseForeign(req, res, 'anonymous')) return;
    if (!name || typeof password !== 'string' || !password || password.length > 1024) return void res.redirect(303, '/staff/login?error=1');
    const r = await login(db, name, password, sessionHours, { address: req.ip });
    if (!r.ok) {
      const wait = r.waitSeconds ? `&wait=${r.waitSeconds}` : '';
      return void res.redirect(303, `/staff/login?error=${r.reason === 'throttled' ? 'wait' : '1'}${wait}`);
    }
    res.setHeader('set-cookie', sessionCookie(req, r.token, Math.round(sessionHours * 3600)));
    res.redirect(303, '/staff/');
  });

  router.post('/staff/logout', form, async (req, res) => {
    const token = cookie(req, SESSION_COOKIE);
    const s = token ? await sessionOf(db, token) : null;
    if (s) {
      // Only a form of our own page, with this session's token, may end it.
      if (await refuseForeign(req, res, s.username)) return;
      if (!sameToken((req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD], s.csrfToken)) {
        await appendAudit(db, { actor: s.username, action: 'csrf', target: req.path, address: req.ip, outcome: 'denied', details: { method: req.method, reason: 'CSRF token' } });
        return void res.status(403).json({ error: CSRF_REFUSED });
      }
      await logout(db, token!);
      await appendAudit(db, { actor: s.username, action: 'logout', address: req.ip });
    }
    res.setHeader('set-cookie', sessionCookie(req, '', 0));
    res.redirect(303, '/staff/login');
  });

  // The console itself needs a live session; every path under /staff/ is one of its routes.
  router.get(['/staff', '/staff/{*route}'], async (req, res) => {
    const token = cookie(req, SESSION_COOKIE);
    const user = token ? await sessionOf(db, token) : null;
    if (!user) return void res.redirect(303, '/staff/login');
    const index = path.join(CONSOLE_DIST, 'index.html');
    if (!existsSync(index)) return void res.status(503).type('text/plain; charset=utf-8').send('工作台尚未构建：请运行 npm run build:console（npm install 会自动构建）。');
    res.sendFile(index);
  });

  return router;
}
