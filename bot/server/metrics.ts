/**
 * GET /metrics for Prometheus: process metrics, and what an operator must see before citizens
 * notice — calls to the case platform waiting, refused (blocked: likely our key or URL) or
 * held as invalid, the oldest wait, and chats waiting for an agent. Counts only, nothing
 * personal. With METRICS_TOKEN set it needs that bearer token; without, it answers only
 * clients on this machine (a scraper beside 小安 or behind the same proxy).
 */
import { Router, type Request } from 'express';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../store/database.ts';
import { outboxHealth } from '../store/outbox.ts';
import { sameToken } from './staff-routes.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function metricsRoutes(db: Database, token: string | undefined): Router {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'xiaoan_' });
  const outbox = new Gauge({ name: 'xiaoan_outbox_calls', help: 'Calls to the case platform not yet delivered, by state', labelNames: ['state'], registers: [registry] });
  const oldest = new Gauge({ name: 'xiaoan_outbox_oldest_pending_seconds', help: 'Age of the oldest waiting call (0 when none waits)', registers: [registry] });
  const waiting = new Gauge({ name: 'xiaoan_handoffs', help: 'Handed-over chats by state', labelNames: ['state'], registers: [registry] });

  const allowed = (req: Request) =>
    token ? sameToken((req.get('authorization') ?? '').replace(/^Bearer\s+/i, ''), token) : LOOPBACK.has(req.socket.remoteAddress ?? '');

  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (!allowed(req)) return void res.status(token ? 401 : 403).json({ error: token ? 'metrics need the METRICS_TOKEN bearer token' : 'metrics are served to this machine only (set METRICS_TOKEN)' });
    const h = await outboxHealth(db);
    outbox.set({ state: 'pending' }, h.pending - h.blocked);
    outbox.set({ state: 'blocked' }, h.blocked);
    outbox.set({ state: 'invalid' }, h.invalid);
    oldest.set(h.oldestPendingSeconds ?? 0);
    const { rows } = await db.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM handoffs WHERE kind = 'handoff' AND status IN ('open', 'accepted', 'missed') GROUP BY status`,
    );
    for (const s of ['open', 'accepted', 'missed']) waiting.set({ state: s }, Number(rows.find((r) => r.status === s)?.n ?? 0));
    res.set('content-type', registry.contentType).send(await registry.metrics());
  });
  return router;
}
