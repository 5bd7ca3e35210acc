/**
 * A minimal staff API for the hand-over queue, behind a bearer token (STAFF_API_TOKEN).
 * The staff console with logins and roles comes with the case desk.
 */
import { timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Database } from '../store/database.ts';
import { sessionUser, type StaffUser } from '../store/staff.ts';
import { listHandoffs, releaseConversation } from '../store/conversations.ts';

export type StaffAuth = (req: Request, res: Response, next: NextFunction) => void;

export const SESSION_COOKIE = 'xiaoan_staff';

export function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * Who is calling the staff API: a staff member with a session cookie (from the login page),
 * or a system with the bearer STAFF_API_TOKEN. Sets res.locals.staff = {username, role}.
 */
export function staffAuth(db: Database, token: string | undefined): StaffAuth {
  return (req, res, next) => {
    const bearer = (req.get('authorization') ?? '').replace(/^Bearer\s+/i, '');
    if (bearer && token) {
      const given = Buffer.from(bearer);
      const want = Buffer.from(token);
      if (given.length === want.length && timingSafeEqual(given, want)) {
        res.locals.staff = { username: 'system', role: 'handler' };
        return next();
      }
    }
    const session = cookie(req, SESSION_COOKIE);
    if (!session) return void res.status(401).json({ error: 'unauthorized: log in at /staff/login' });
    sessionUser(db, session).then(
      (user) => {
        if (!user) return void res.status(401).json({ error: 'session expired: log in again at /staff/login' });
        res.locals.staff = user;
        next();
      },
      (e: Error) => next(e),
    );
  };
}

/** Only case handlers may change a case; supervisors watch and follow up. */
export const handlersOnly: StaffAuth = (_req, res, next) => {
  if ((res.locals.staff as StaffUser | undefined)?.role !== 'handler') return void res.status(403).json({ error: 'only case handlers may do this' });
  next();
};

export function staffRoutes(db: Database, auth: StaffAuth): Router {
  const router = Router();
  router.get('/api/staff/me', auth, (_req, res) => {
    res.json(res.locals.staff);
  });
  router.get('/api/staff/handoffs', auth, async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : 'open';
    res.json({ handoffs: await listHandoffs(db, status) });
  });
  router.post('/api/staff/conversations/:channel/:userId/release', auth, async (req, res) => {
    const released = await releaseConversation(db, String(req.params.channel), String(req.params.userId));
    if (!released) return void res.status(404).json({ error: 'no handed-over conversation for this user' });
    res.json({ released: true });
  });
  return router;
}
