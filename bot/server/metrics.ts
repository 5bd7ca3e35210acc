/**
 * GET /metrics for Prometheus: the process registry (bot/metrics.ts: process metrics, turns,
 * requests, WeCom errors) and what an operator must see before citizens notice, read at each
 * scrape — calls to the case platform waiting, refused (blocked: likely our key or URL) or
 * held as invalid, the oldest wait, chats waiting for an agent, the database connections and
 * the knowledge release served. Counts only, nothing personal. With METRICS_TOKEN set it
 * needs that bearer token; without, it answers only clients on this machine (a scraper
 * beside 小安 or behind the same proxy).
 */
import { Router, type Request } from 'express';
import { Gauge, Registry } from 'prom-client';
import type { LiveKnowledge } from '../../knowledge-base/live-knowledge.ts';
import { registry as processRegistry } from '../metrics.ts';
import type { Database } from '../store/database.ts';
import { outboxHealth } from '../store/outbox.ts';
import { sameToken } from './staff-routes.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface MetricsDeps {
  db: Database;
  token?: string;
  /** The knowledge served: its release is reported. */
  knowledge: Pick<LiveKnowledge, 'release'>;
}

export function metricsRoutes({ db, token, knowledge }: MetricsDeps): Router {
  // Gauges of this app's store and knowledge; the process registry is shared by every app.
  const registry = new Registry();
  const outbox = new Gauge({ name: 'xiaoan_outbox_calls', help: 'Calls to the case platform not yet delivered, by state', labelNames: ['state'], registers: [registry] });
  const oldest = new Gauge({ name: 'xiaoan_outbox_oldest_pending_seconds', help: 'Age of the oldest waiting call (0 when none waits)', registers: [registry] });
  const waiting = new Gauge({ name: 'xiaoan_handoffs', help: 'Handed-over chats by state', labelNames: ['state'], registers: [registry] });
  const dbTotal = new Gauge({ name: 'xiaoan_db_pool_total', help: 'Database connections open (PGlite: 1)', registers: [registry] });
  const dbIdle = new Gauge({ name: 'xiaoan_db_pool_idle', help: 'Database connections open and free', registers: [registry] });
  const dbWaiting = new Gauge({ name: 'xiaoan_db_pool_waiting', help: 'Queries waiting for a free database connection', registers: [registry] });
  const release = new Gauge({ name: 'xiaoan_knowledge_release', help: 'The knowledge release this process serves (value: release id)', labelNames: ['checksum'], registers: [registry] });

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
    const use = db.connections?.();
    if (use) {
      dbTotal.set(use.total);
      dbIdle.set(use.idle);
      dbWaiting.set(use.waiting);
    }
    // One series: the release switched since the last scrape is not reported any more.
    release.reset();
    release.set({ checksum: knowledge.release.checksum.slice(0, 12) }, knowledge.release.id);
    const all = Registry.merge([processRegistry, registry]);
    res.set('content-type', all.contentType).send(await all.metrics());
  });
  return router;
}
