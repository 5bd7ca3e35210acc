/**
 * 人工会话 over HTTP, for agents (role `agent`, or a system with the staff token):
 *
 *   GET  /api/staff/inbox                 chats waiting, taken or missed
 *   GET  /api/staff/inbox/events          server-sent events: each change, each citizen message
 *   GET  /api/staff/inbox/:id             one chat: summary, transcript, events (notes included)
 *   GET  /api/staff/inbox/:id/suggestions the assistant's replies to the citizen's latest words
 *   POST /api/staff/inbox/:id/accept|release
 *   POST /api/staff/inbox/:id/reply       {text}
 *   POST /api/staff/inbox/:id/card        {itemId}
 *   POST /api/staff/inbox/:id/note        {text}
 *   POST /api/staff/inbox/:id/transfer    {to}
 *   POST /api/staff/inbox/:id/case        {type, description, place?, mobile, name?, consentToContact, key?}
 *   GET  /api/staff/agents                colleagues a chat can be transferred to
 */
import { Router, type Request, type Response } from 'express';
import type { Database } from '../store/database.ts';
import { listStaff } from '../store/staff.ts';
import { Inbox, InboxError } from '../inbox/inbox.ts';
import type { InboxHub } from '../inbox/hub.ts';
import { wellFormed } from '../storable-text.ts';
import { EventStreams } from './event-stream.ts';
import { auditOf, rolesOnly, staffOf, type StaffAuth } from './staff-routes.ts';

const agentsOnly = rolesOnly('agent');

function idOf(req: Request): number {
  const id = String(req.params.id);
  if (!/^\d{1,15}$/.test(id)) throw new InboxError('会话编号无效', 400);
  return Number(id);
}

/** A string field of the JSON body, checked. */
function field(req: Request, name: string, o: { optional?: boolean; max?: number } = {}): string | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const v = body[name];
  if (v === undefined || v === null) {
    if (o.optional) return undefined;
    throw new InboxError(`缺少 ${name}`, 400);
  }
  if (typeof v !== 'string') throw new InboxError(`${name} 必须是字符串`, 400);
  if (!wellFormed(v)) throw new InboxError(`${name} 含有无效字符`, 400);
  if (v.length > (o.max ?? 4000)) throw new InboxError(`${name} 过长`, 400);
  return v;
}

export function inboxRoutes(db: Database, auth: StaffAuth, inbox: Inbox, hub: InboxHub): { router: Router; closeStreams: () => void } {
  const router = Router();
  const streams = new EventStreams();

  /** Runs an action; an InboxError is its 4xx, recorded in the audit log like the rest. */
  const act =
    (action: string, fn: (req: Request, res: Response, id: number, agent: string) => Promise<unknown>) =>
    async (req: Request, res: Response): Promise<void> => {
      const agent = staffOf(res).username;
      let id = 0;
      try {
        id = idOf(req);
        const out = await fn(req, res, id, agent);
        await auditOf(res)(`inbox.${action}`, { target: String(id) });
        res.json(out);
      } catch (e) {
        if (!(e instanceof InboxError)) throw e;
        await auditOf(res)(`inbox.${action}`, { target: String(id || req.params.id), outcome: 'failed', details: { reason: e.message } });
        res.status(e.status).json({ error: e.message });
      }
    };

  router.get('/api/staff/inbox', auth, agentsOnly, async (_req, res) => {
    res.json({ items: await inbox.list() });
  });

  router.get('/api/staff/inbox/events', auth, agentsOnly, (req, res) => {
    streams.start(req, res, (send) => hub.subscribe((e) => send(e.type, e)));
  });

  router.get('/api/staff/agents', auth, agentsOnly, async (_req, res) => {
    const agents = (await listStaff(db)).filter((a) => !a.disabled && a.roles.includes('agent'));
    res.json({ agents: agents.map((a) => ({ username: a.username, displayName: a.displayName ?? a.username })) });
  });

  router.get('/api/staff/inbox/:id', auth, agentsOnly, act('view', (_req, _res, id) => inbox.detail(id)));
  router.get('/api/staff/inbox/:id/suggestions', auth, agentsOnly, act('suggestions', (_req, res, id) => inbox.suggestions(id, staffOf(res).username)));
  router.post('/api/staff/inbox/:id/accept', auth, agentsOnly, act('accept', (_req, _res, id, agent) => inbox.accept(id, agent)));
  router.post('/api/staff/inbox/:id/release', auth, agentsOnly, act('release', (_req, _res, id, agent) => inbox.release(id, agent)));
  router.post('/api/staff/inbox/:id/reply', auth, agentsOnly, act('reply', (req, _res, id, agent) => inbox.reply(id, agent, field(req, 'text')!)));
  router.post('/api/staff/inbox/:id/card', auth, agentsOnly, act('card', (req, _res, id, agent) => inbox.card(id, agent, field(req, 'itemId', { max: 40 })!)));
  router.post('/api/staff/inbox/:id/note', auth, agentsOnly, act('note', (req, _res, id, agent) => inbox.note(id, agent, field(req, 'text')!)));
  router.post('/api/staff/inbox/:id/transfer', auth, agentsOnly, act('transfer', (req, _res, id, agent) => inbox.transfer(id, agent, field(req, 'to', { max: 40 })!)));
  router.post(
    '/api/staff/inbox/:id/case',
    auth,
    agentsOnly,
    act('case', (req, _res, id, agent) => {
      const consent = (req.body as Record<string, unknown> | undefined)?.consentToContact;
      if (typeof consent !== 'boolean') throw new InboxError('consentToContact 必须是 true 或 false', 400);
      return inbox.openCase(id, agent, {
        type: field(req, 'type', { max: 10 }) as never,
        description: field(req, 'description', { max: 2000 })!,
        place: field(req, 'place', { optional: true, max: 200 }),
        mobile: field(req, 'mobile', { max: 20 })!.replace(/\s|-/g, ''),
        name: field(req, 'name', { optional: true, max: 40 }),
        consentToContact: consent,
        key: field(req, 'key', { optional: true, max: 64 }),
      });
    }),
  );

  return { router, closeStreams: () => streams.closeAll() };
}
