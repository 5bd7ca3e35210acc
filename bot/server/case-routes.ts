/**
 * Case routes: the platform's signed callbacks (POST /cases/callback) and the staff API of
 * the built-in desk (working lists and the accept / start / reply / close actions).
 */
import express, { Router, type Request, type Response } from 'express';
import type { CaseEvents } from '../cases/events.ts';
import type { DialogEngine } from '../engine.ts';
import { verifyCallback } from '../../integrations/case-platform/signature.ts';
import type { CaseEvent } from '../../integrations/case-platform/types.ts';
import { DeskError } from '../../integrations/case-platform/desk/desk.ts';
import { auditOf, handlersOnly, rolesOnly, staffOf, type StaffAuth } from './staff-routes.ts';

const EVENT_TYPES = new Set(['case.accepted', 'case.in_progress', 'case.replied', 'case.closed']);
const ACTIONS = new Set(['accept', 'start', 'reply', 'close']);

export function caseRoutes(engine: DialogEngine, events: CaseEvents, secret: string, staff: StaffAuth): Router {
  const router = Router();

  router.post('/cases/callback', express.raw({ type: () => true, limit: '256kb' }), async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const check = verifyCallback(secret, body, { timestamp: req.get('x-timestamp'), signature: req.get('x-signature') });
    if (!check.ok) return void res.status(401).json({ error: `callback rejected: ${check.reason} signature` });
    let event: CaseEvent;
    try {
      event = JSON.parse(body) as CaseEvent;
    } catch {
      return void res.status(400).json({ error: 'callback body is not JSON' });
    }
    if (!event || typeof event.eventId !== 'string' || !EVENT_TYPES.has(event.type) || !event.case?.id) {
      return void res.status(400).json({ error: 'callback body does not follow the contract (eventId, type, caseId, case)' });
    }
    res.json({ result: await events.handle(event) });
  });

  // Staff views are audited: who looked at which cases, and every reveal of a citizen's contact.
  router.get('/api/staff/cases', staff, async (_req, res) => {
    if (!engine.desk) return void res.status(404).json({ error: 'the built-in desk is off (an external platform is configured)' });
    const lists = await engine.desk.lists();
    await auditOf(res)('case.list', { details: { notStarted: lists.notStarted.length, inProgress: lists.inProgress.length, overdue: lists.overdue.length } });
    res.json(lists);
  });

  router.get('/api/staff/cases/:id', staff, async (req, res) => {
    const id = String(req.params.id);
    const c = await engine.desk?.get(id);
    await auditOf(res)('case.view', { target: id, outcome: c ? 'ok' : 'failed' });
    if (!c) return void res.status(404).json({ error: 'no such case' });
    res.json(c);
  });

  // A POST, so that the CSRF check covers it and no cache or prefetch ever holds the answer.
  router.post('/api/staff/cases/:id/contact', staff, rolesOnly('handler', 'supervisor'), async (req, res) => {
    if (!engine.desk) return void res.status(404).json({ error: 'the built-in desk is off (an external platform is configured)' });
    const id = String(req.params.id);
    const contact = await engine.desk.contact(id);
    await auditOf(res)('case.contact', { target: id, outcome: contact ? 'ok' : 'failed' });
    if (!contact) return void res.status(404).json({ error: 'no such case' });
    res.json({ caseId: id, ...contact });
  });

  router.post('/api/staff/cases/:id/:action', staff, handlersOnly, express.json({ limit: '32kb' }), async (req, res) => {
    if (!engine.desk) return void res.status(404).json({ error: 'the built-in desk is off (an external platform is configured)' });
    const action = String(req.params.action);
    if (!ACTIONS.has(action)) return void res.status(404).json({ error: `unknown action "${action}"` });
    const id = String(req.params.id);
    const actor = `staff:${staffOf(res).username}`;
    const note = (req.body as { note?: unknown } | undefined)?.note;
    if (note !== undefined && typeof note !== 'string') return void res.status(400).json({ error: 'note must be text' });
    const audit = auditOf(res);
    try {
      const c = await engine.desk.act(id, action as 'accept', actor, note);
      await audit(`case.${action}`, { target: id, details: { status: c.status, ...(note ? { note } : {}) } });
      // Send the callback now rather than at the next timer tick.
      await engine.cases.retryDue();
      res.json(c);
    } catch (e) {
      if (e instanceof DeskError) {
        await audit(`case.${action}`, { target: id, outcome: 'failed', details: { error: e.message } });
        return void res.status(e.status).json({ error: e.message });
      }
      throw e;
    }
  });

  return router;
}
