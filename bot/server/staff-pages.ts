/** The staff pages: a login form and the case desk page, behind a session that expires. */
import path from 'node:path';
import express, { Router } from 'express';
import { PROJECT_ROOT } from '../config.ts';
import type { Database } from '../store/database.ts';
import { login, logout, sessionUser } from '../store/staff.ts';
import { cookie, SESSION_COOKIE } from './staff-routes.ts';

const PAGES = path.join(PROJECT_ROOT, 'web', 'staff');

export function staffPages(db: Database, sessionHours: number): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '8kb' });

  router.get('/staff/login', (_req, res) => res.sendFile(path.join(PAGES, 'login.html')));
  router.get('/staff/staff.css', (_req, res) => res.sendFile(path.join(PAGES, 'staff.css')));

  router.post('/staff/login', form, async (req, res) => {
    const { username, password } = (req.body ?? {}) as { username?: string; password?: string };
    const session = typeof username === 'string' && typeof password === 'string' ? await login(db, username, password, sessionHours) : null;
    if (!session) return void res.redirect(303, '/staff/login?error=1');
    res.setHeader(
      'set-cookie',
      `${SESSION_COOKIE}=${encodeURIComponent(session.token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.round(sessionHours * 3600)}`,
    );
    res.redirect(303, '/staff/');
  });

  router.post('/staff/logout', async (req, res) => {
    const token = cookie(req, SESSION_COOKIE);
    if (token) await logout(db, token);
    res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    res.redirect(303, '/staff/login');
  });

  // The desk page itself needs a live session.
  router.get(['/staff', '/staff/', '/staff/desk.js'], async (req, res) => {
    const token = cookie(req, SESSION_COOKIE);
    const user = token ? await sessionUser(db, token) : null;
    if (!user) return void res.redirect(303, '/staff/login');
    res.sendFile(path.join(PAGES, req.path.endsWith('.js') ? 'desk.js' : 'index.html'));
  });

  return router;
}
