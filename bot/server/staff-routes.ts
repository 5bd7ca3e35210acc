/**
 * A minimal staff API for the hand-over queue, behind a bearer token (STAFF_API_TOKEN).
 * The staff console with logins and roles comes with the case desk.
 */
import { timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Database } from '../store/database.ts';
import { listHandoffs, releaseConversation } from '../store/conversations.ts';

export type StaffAuth = (req: Request, res: Response, next: NextFunction) => void;

/** Bearer-token check for the staff API; off (404) when no token is configured. */
export function staffAuth(token: string | undefined): StaffAuth {
  return (req, res, next) => {
    if (!token) return void res.status(404).json({ error: 'staff API is off (set STAFF_API_TOKEN)' });
    const given = Buffer.from((req.get('authorization') ?? '').replace(/^Bearer\s+/i, ''));
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return void res.status(401).json({ error: 'unauthorized' });
    next();
  };
}

export function staffRoutes(db: Database, auth: StaffAuth): Router {
  const router = Router();
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
