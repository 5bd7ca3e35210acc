/**
 * Case routes: the platform's signed callbacks (POST /cases/callback) and the staff API of
 * the built-in desk (诉求办理). Every staff route is scoped by the caller's unit and roles
 * (desk/scope.ts): a case outside the scope is 404 to them, as if it did not exist, and the
 * attempt is audited. Systems with the bearer STAFF_API_TOKEN see and work on every case.
 *
 *   GET  /api/staff/cases                      the working lists {notStarted, inProgress, overdue}
 *   GET  /api/staff/cases/search               search, filters, sort, pages, tab counts
 *   GET  /api/staff/cases/options              units, categories, types, templates, time zone, my scope
 *   GET  /api/staff/cases/events               server-sent events: a case in scope arrived or changed
 *   GET  /api/staff/cases/:id                  one case with every step, repeats, questions, masked contact
 *   GET  /api/staff/cases/:id/conversation     the chat that opened it (masked)
 *   GET  /api/staff/cases/:id/colleagues       handlers it may be assigned to
 *   POST /api/staff/cases/:id/contact          the contact details (audited)
 *   POST /api/staff/cases/:id/accept|start|reply|close   {note?} (reply: note required; close: result?)
 *   POST /api/staff/cases/:id/assign           {assignee: username | null}
 *   POST /api/staff/cases/:id/note             {note}
 *   POST /api/staff/cases/:id/transfer         {unit, reason}
 *   POST /api/staff/cases/:id/return           {reason}
 *   POST /api/staff/cases/:id/request-info     {question}
 */
import express, { Router, type Request, type Response } from 'express';
import type { CaseEvents } from '../cases/events.ts';
import { askCitizen } from '../cases/info-requests.ts';
import type { DialogEngine } from '../engine.ts';
import type { Database } from '../store/database.ts';
import { verifyCallback } from '../../integrations/case-platform/signature.ts';
import { CASE_TYPES, type CaseEvent } from '../../integrations/case-platform/types.ts';
import { DeskError, type CaseDesk } from '../../integrations/case-platform/desk/desk.ts';
import { parseCaseQuery, searchCases } from '../../integrations/case-platform/desk/case-search.ts';
import { caseConversation, caseDetail } from '../../integrations/case-platform/desk/case-detail.ts';
import { COMMON, loadReplyTemplates } from '../../integrations/case-platform/desk/reply-templates.ts';
import { scopeOf, sees, worksOn, type CaseScope } from '../../integrations/case-platform/desk/scope.ts';
import { EventStreams } from './event-stream.ts';
import { auditOf, rolesOnly, staffOf, type StaffAuth } from './staff-routes.ts';

const EVENT_TYPES = new Set(['case.accepted', 'case.in_progress', 'case.replied', 'case.closed']);
const TRANSITIONS = new Set(['accept', 'start', 'reply', 'close']);
const MAX_TEXT = 4000;
const DESK_OFF = '已接入外部诉求平台，内置诉求办理未启用 (the built-in desk is off: an external platform is configured)';
const NO_CASE = '没有这件诉求，或不在您的单位范围内';

export interface CaseRouteOptions {
  timeZone?: string;
  now?: () => Date;
}

/** A text field of a JSON body: undefined when absent; throws a DeskError naming the field otherwise. */
function textField(body: unknown, name: string, o: { required?: boolean; max?: number } = {}): string | undefined {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  if (v === undefined || v === null) {
    if (o.required) throw new DeskError(`缺少 ${name}`, 400);
    return undefined;
  }
  if (typeof v !== 'string') throw new DeskError(`${name} 须为文本`, 400);
  if (v.length > (o.max ?? MAX_TEXT)) throw new DeskError(`${name} 不能超过 ${o.max ?? MAX_TEXT} 字`, 400);
  if (o.required && !v.trim()) throw new DeskError(`${name} 不能为空`, 400);
  return v;
}

export function caseRoutes(engine: DialogEngine, events: CaseEvents, secret: string, staff: StaffAuth, db: Database, o: CaseRouteOptions = {}): { router: Router; closeStreams: () => void } {
  const router = Router();
  const streams = new EventStreams();
  const now = o.now ?? (() => new Date());
  const templates = loadReplyTemplates();

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

  const deskOf = (res: Response): CaseDesk | null => {
    if (!engine.desk) res.status(404).json({ error: DESK_OFF });
    return engine.desk;
  };
  const scope = (res: Response): CaseScope => scopeOf(staffOf(res), engine.caseRouter);
  const me = (res: Response) => staffOf(res).username;

  /**
   * The case of :id if the caller may see it (and, with `work`, work on it); otherwise a 404
   * (or 403 for a case they see but may not work on) is sent and the attempt audited.
   */
  async function allowed(req: Request, res: Response, desk: CaseDesk, action: string, work = false): Promise<{ id: string; handlingUnit: string; supervisingUnit: string; assignee: string | null } | null> {
    const id = String(req.params.id);
    const c = await desk.units(id);
    const s = scope(res);
    if (!c || !sees(s, c)) {
      await auditOf(res)(action, { target: id, outcome: c ? 'denied' : 'failed', details: c ? { reason: 'outside the unit scope' } : undefined });
      res.status(404).json({ error: NO_CASE });
      return null;
    }
    if (work && !worksOn(s, c)) {
      await auditOf(res)(action, { target: id, outcome: 'denied', details: { reason: 'not a handler of the handling unit' } });
      res.status(403).json({ error: staffOf(res).roles.includes('handler') ? '该诉求不由您的单位承办，只能查看' : 'only case handlers may do this' });
      return null;
    }
    return { id, ...c };
  }

  /** Runs a desk change for a permitted caller; DeskErrors become their 4xx, audited either way. */
  async function change(req: Request, res: Response, action: string, run: (desk: CaseDesk, id: string) => Promise<{ body: unknown; details?: Record<string, unknown> }>): Promise<void> {
    const desk = deskOf(res);
    if (!desk) return;
    const c = await allowed(req, res, desk, `case.${action}`, true);
    if (!c) return;
    const audit = auditOf(res);
    try {
      const out = await run(desk, c.id);
      await audit(`case.${action}`, { target: c.id, details: out.details });
      // Send the callbacks now rather than at the next timer tick.
      await engine.cases.retryDue();
      res.json(out.body);
    } catch (e) {
      if (e instanceof DeskError) {
        await audit(`case.${action}`, { target: c.id, outcome: 'failed', details: { error: e.message } });
        return void res.status(e.status).json({ error: e.message });
      }
      throw e;
    }
  }

  // Staff views are audited: who looked at which cases, and every reveal of a citizen's contact.
  router.get('/api/staff/cases', staff, async (_req, res) => {
    const desk = deskOf(res);
    if (!desk) return;
    const lists = await desk.lists(scope(res));
    await auditOf(res)('case.list', { details: { notStarted: lists.notStarted.length, inProgress: lists.inProgress.length, overdue: lists.overdue.length } });
    res.json(lists);
  });

  router.get('/api/staff/cases/search', staff, async (req, res) => {
    const desk = deskOf(res);
    if (!desk) return;
    let query;
    try {
      query = parseCaseQuery(req.query as Record<string, unknown>, engine.caseRouter);
    } catch (e) {
      return void res.status(400).json({ error: (e as Error).message });
    }
    const page = await searchCases(db, engine.caseRouter, scope(res), query, { me: me(res), now: now() });
    await auditOf(res)('case.search', { details: { ...req.query, total: page.total } });
    res.json(page);
  });

  router.get('/api/staff/cases/options', staff, (_req, res) => {
    if (!deskOf(res)) return;
    const r = engine.caseRouter;
    const s = scope(res);
    const mine = staffOf(res).unit ?? null;
    res.json({
      timeZone: o.timeZone ?? 'Asia/Shanghai',
      types: CASE_TYPES,
      categories: r.categories,
      units: r.units.map((u) => ({ id: u.id, name: u.name, parent: u.parent ?? null, path: r.path(u.id) })),
      dispatcher: r.dispatcher.id,
      templates: Object.fromEntries(r.categories.map((c) => [c, [...(templates[c] ?? []), ...(templates[COMMON] ?? [])]])),
      me: { username: me(res), unit: mine, unitName: mine && r.has(mine) ? r.unit(mine).name : null, all: s.all, acts: s.acts, units: [...new Set([...s.handling, ...s.watching])] },
    });
  });

  router.get('/api/staff/cases/events', staff, (req, res) => {
    const desk = deskOf(res);
    if (!desk) return;
    const s = scope(res);
    streams.start(req, res, (send) =>
      desk.changes.subscribe((c) => {
        if (sees(s, c)) send('case', { caseId: c.caseId, kind: c.kind, action: c.action, status: c.status, handlingUnitId: c.handlingUnit });
      }),
    );
  });

  router.get('/api/staff/cases/:id', staff, async (req, res) => {
    const desk = deskOf(res);
    if (!desk) return;
    const c = await allowed(req, res, desk, 'case.view');
    if (!c) return;
    const detail = (await caseDetail(db, desk, c.id, now()))!;
    await auditOf(res)('case.view', { target: c.id });
    res.json({ ...detail, can: { work: worksOn(scope(res), c) } });
  });

  router.get('/api/staff/cases/:id/conversation', staff, async (req, res) => {
    const desk = deskOf(res);
    if (!desk) return;
    const c = await allowed(req, res, desk, 'case.conversation');
    if (!c) return;
    const messages = await caseConversation(db, c.id);
    await auditOf(res)('case.conversation', { target: c.id, details: { messages: messages?.length ?? 0 } });
    res.json({ caseId: c.id, messages: messages ?? [] });
  });

  router.get('/api/staff/cases/:id/colleagues', staff, async (req, res) => {
    const desk = deskOf(res);
    if (!desk) return;
    const c = await allowed(req, res, desk, 'case.colleagues');
    if (!c) return;
    res.json({ colleagues: await desk.colleagues(c.handlingUnit) });
  });

  // A POST, so that the CSRF check covers it and no cache or prefetch ever holds the answer.
  router.post('/api/staff/cases/:id/contact', staff, rolesOnly('handler', 'supervisor'), async (req, res) => {
    const desk = deskOf(res);
    if (!desk) return;
    const c = await allowed(req, res, desk, 'case.contact');
    if (!c) return;
    const contact = await desk.contact(c.id);
    await auditOf(res)('case.contact', { target: c.id });
    res.json({ caseId: c.id, ...contact });
  });

  const json = express.json({ limit: '32kb' });
  const handlers = rolesOnly('handler');
  const actor = (res: Response) => `staff:${me(res)}`;

  router.post('/api/staff/cases/:id/assign', staff, handlers, json, (req, res) =>
    change(req, res, 'assign', async (desk, id) => {
      const v = (req.body as { assignee?: unknown } | undefined)?.assignee;
      if (v !== null && typeof v !== 'string') throw new DeskError('assignee 须为办理人的用户名，或 null（退回本单位待分配）', 400);
      if (v !== null) {
        const unit = (await desk.units(id))!.handlingUnit;
        if (!(await desk.colleagues(unit)).some((c) => c.username === v)) throw new DeskError(`${v} 不是承办单位的办理人员`, 400);
      }
      return { body: await desk.assign(id, v, actor(res)), details: { assignee: v } };
    }),
  );

  router.post('/api/staff/cases/:id/note', staff, handlers, json, (req, res) =>
    change(req, res, 'note', async (desk, id) => ({ body: await desk.addNote(id, textField(req.body, 'note', { required: true })!, actor(res)) })),
  );

  router.post('/api/staff/cases/:id/transfer', staff, handlers, json, (req, res) =>
    change(req, res, 'transfer', async (desk, id) => {
      const unit = textField(req.body, 'unit', { required: true, max: 100 })!;
      const reason = textField(req.body, 'reason', { required: true, max: 1000 })!;
      return { body: await desk.transfer(id, unit, reason, actor(res)), details: { unit, reason } };
    }),
  );

  router.post('/api/staff/cases/:id/return', staff, handlers, json, (req, res) =>
    change(req, res, 'return', async (desk, id) => {
      const reason = textField(req.body, 'reason', { required: true, max: 1000 })!;
      return { body: await desk.transfer(id, 'dispatcher', reason, actor(res)), details: { reason } };
    }),
  );

  router.post('/api/staff/cases/:id/request-info', staff, handlers, json, (req, res) =>
    change(req, res, 'request_info', async (desk, id) => {
      const question = textField(req.body, 'question', { required: true, max: 1000 })!;
      const r = await desk.requestInfo(id, question, actor(res));
      // Told now in an open chat, or kept and told at the citizen's next message.
      const delivery = await askCitizen(db, engine, { caseId: id, requestId: r.request.id, question: r.request.question });
      return { body: { ...r, delivery }, details: { requestId: r.request.id, delivery } };
    }),
  );

  router.post('/api/staff/cases/:id/:action', staff, handlers, json, (req, res) => {
    const action = String(req.params.action);
    if (!TRANSITIONS.has(action)) return void res.status(404).json({ error: `unknown action "${action}"` });
    return change(req, res, action, async (desk, id) => {
      const note = textField(req.body, 'note');
      const result = action === 'close' ? textField(req.body, 'result') : undefined;
      const staffMember = staffOf(res);
      const c = await desk.act(id, action as 'accept', actor(res), note, { result, assignTo: staffMember.system ? undefined : staffMember.username });
      return { body: c, details: { status: c.status, ...(note ? { note } : {}), ...(result ? { result } : {}) } };
    });
  });

  return { router, closeStreams: () => streams.closeAll() };
}
