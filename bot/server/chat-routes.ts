/**
 * The web channel: POST /api/chat (one turn, with dialog context), GET /api/chat/history
 * (the session's recent messages, so a reload keeps the transcript) and GET
 * /api/chat/events (server-sent events for proactive messages). The citizen is who the
 * session says (or, for a trusted integration, who its token-authenticated call names).
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { InboundError, MAX_MESSAGE_CHARS, type DialogEngine } from '../engine.ts';
import type { Inbound } from '../messages.ts';
import type { PushHub } from '../push-hub.ts';
import type { Database } from '../store/database.ts';
import { recentMessages } from '../store/conversations.ts';
import type { Citizen, CitizenSessions } from './citizen-session.ts';
import { wellFormed } from '../storable-text.ts';
import { EventStreams } from './event-stream.ts';

/** Web chat bubbles stay readable below this; longer answers are split. */
const WEB_MAX_TEXT = 800;
/** Open event streams per citizen: a few tabs, not a flood. */
const MAX_STREAMS = 3;

class BadRequest extends Error {}

function checkText(name: string, v: unknown, max: number): string {
  if (typeof v !== 'string') throw new BadRequest(`${name} 必须是字符串 (${name} must be a string)`);
  if (!wellFormed(v)) throw new BadRequest(`${name} 含有无效字符 (control characters or broken Unicode)`);
  if (v.length > max) throw new BadRequest(name === 'text' ? `消息太长了，请控制在 ${max} 字以内` : `${name} 过长`);
  return v;
}

const isObject = (body: unknown): body is Record<string, unknown> => Boolean(body) && typeof body === 'object' && !Array.isArray(body);

/** Checked before the citizen is identified: a body that is not an object names nobody and opens no session. */
function objectBody(req: Request, res: Response, next: NextFunction): void {
  if (!isObject(req.body)) return void res.status(400).json({ error: '请求体必须是 JSON 对象 (body must be a JSON object)' });
  next();
}

function inboundFrom(b: Record<string, unknown>, citizen: Citizen): Inbound {
  const base = { channel: citizen.channel, userId: citizen.userId };
  const given = ['text', 'menuId', 'location', 'kind'].filter((k) => b[k] !== undefined);
  if (b.text !== undefined && b.menuId !== undefined) throw new BadRequest('text 和 menuId 只能给一个 (give text or menuId, not both)');
  if (b.menuId !== undefined) {
    const menuId = checkText('menuId', b.menuId, 200);
    if (!menuId.trim()) throw new BadRequest('menuId 必须是非空字符串');
    return { ...base, kind: 'menu', menuId };
  }
  if (b.location !== undefined) {
    const l = b.location as Record<string, unknown>;
    if (!l || typeof l.lat !== 'number' || typeof l.lng !== 'number' || Math.abs(l.lat) > 90 || Math.abs(l.lng) > 180) {
      throw new BadRequest('location 需要有效的 lat 和 lng (location needs numeric lat and lng)');
    }
    return { ...base, kind: 'location', location: { lat: l.lat, lng: l.lng } };
  }
  if (b.kind === 'image' || b.kind === 'voice' || b.kind === 'file') return { ...base, kind: b.kind };
  if (b.kind === 'event') return { ...base, kind: 'event', event: 'open' };
  if (!given.length || b.text === undefined) throw new BadRequest('请提供 text 或 menuId (give text or menuId)');
  const text = checkText('text', b.text, MAX_MESSAGE_CHARS);
  if (!text.trim()) throw new BadRequest('消息不能为空 (text must not be empty)');
  return { ...base, kind: 'text', text };
}

export interface ChatRoutes {
  router: Router;
  /** Ends every open event stream (on shutdown; browsers reconnect by themselves). */
  closeStreams: () => void;
}

export interface ChatLimits {
  /** Turns per citizen per minute. */
  perCitizen: number;
  /** Requests per client address per minute (web sessions; integrations are one address for many citizens). */
  perAddress: number;
}

const tooMany = { error: '您发送得太快了，请稍等一会儿再试。' };

export function chatRoutes(engine: DialogEngine, push: PushHub, db: Database, sessions: CitizenSessions, limits: ChatLimits): ChatRoutes {
  const router = Router();
  const streams = new EventStreams();
  const citizenOf = (res: Response) => res.locals.citizen as Citizen;
  const byAddress = rateLimit({
    windowMs: 60_000,
    limit: limits.perAddress,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    message: tooMany,
    skip: (req) => Boolean(req.get('authorization')),
  });
  const byCitizen = rateLimit({
    windowMs: 60_000,
    limit: limits.perCitizen,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    message: tooMany,
    keyGenerator: (_req, res) => `${citizenOf(res).channel}:${citizenOf(res).userId}`,
  });
  const identify = sessions.identify();

  router.post('/api/chat', byAddress, objectBody, identify, byCitizen, async (req: Request, res: Response) => {
    let inbound: Inbound;
    try {
      inbound = inboundFrom(req.body as Record<string, unknown>, citizenOf(res));
    } catch (e) {
      if (e instanceof BadRequest) return void res.status(400).json({ error: e.message });
      throw e;
    }
    try {
      const r = await engine.handle(inbound, WEB_MAX_TEXT);
      res.set('cache-control', 'no-store').json({
        replies: r.replies,
        intent: r.intent,
        item: r.item,
        candidates: r.candidates,
        aspect: r.aspect,
        sources: r.sources,
        conversation: r.conversation,
      });
    } catch (e) {
      if (e instanceof InboundError) return void res.status(400).json({ error: e.message });
      throw e;
    }
  });

  router.get('/api/chat/history', byAddress, identify, async (_req: Request, res: Response) => {
    const c = citizenOf(res);
    res.set('cache-control', 'no-store').json({ messages: await recentMessages(db, c.channel, c.userId, 50) });
  });

  router.get('/api/chat/events', byAddress, identify, byCitizen, (req: Request, res: Response) => {
    const { channel, userId } = citizenOf(res);
    if (push.connections(channel, userId) >= MAX_STREAMS) return void res.status(429).json({ error: '已打开的对话窗口太多了，请关闭一些再试。' });
    streams.start(req, res, (send) => push.subscribe(channel, userId, (replies) => send('message', { replies })));
  });

  return { router, closeStreams: () => streams.closeAll() };
}
