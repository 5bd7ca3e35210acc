/**
 * The web channel: POST /api/chat (one turn, with dialog context) and
 * GET /api/chat/events (server-sent events for proactive messages).
 */
import { Router, type Request, type Response } from 'express';
import { InboundError, MAX_MESSAGE_CHARS, type DialogEngine } from '../engine.ts';
import type { Inbound } from '../messages.ts';
import type { PushHub } from '../push-hub.ts';

export const WEB_CHANNEL = 'web';
/** Web chat bubbles stay readable below this; longer answers are split. */
const WEB_MAX_TEXT = 800;
const HEARTBEAT_MS = 25_000;

class BadRequest extends Error {}

function inboundFrom(body: unknown): Inbound {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('请求体必须是 JSON 对象 (body must be a JSON object)');
  const b = body as Record<string, unknown>;
  if (typeof b.userId !== 'string' || !b.userId.trim()) throw new BadRequest('缺少 userId (userId is required)');
  if (b.userId.length > 128) throw new BadRequest('userId 过长 (at most 128 characters)');
  const base = { channel: WEB_CHANNEL, userId: b.userId.trim() };
  const given = ['text', 'menuId', 'location', 'kind'].filter((k) => b[k] !== undefined);
  if (b.text !== undefined && b.menuId !== undefined) throw new BadRequest('text 和 menuId 只能给一个 (give text or menuId, not both)');
  if (b.menuId !== undefined) {
    if (typeof b.menuId !== 'string' || !b.menuId.trim()) throw new BadRequest('menuId 必须是非空字符串');
    return { ...base, kind: 'menu', menuId: b.menuId };
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
  if (typeof b.text !== 'string' || !b.text.trim()) throw new BadRequest('消息不能为空 (text must not be empty)');
  if (b.text.length > MAX_MESSAGE_CHARS) throw new BadRequest(`消息太长了，请控制在 ${MAX_MESSAGE_CHARS} 字以内`);
  return { ...base, kind: 'text', text: b.text };
}

export interface ChatRoutes {
  router: Router;
  /** Ends every open event stream (on shutdown; browsers reconnect by themselves). */
  closeStreams: () => void;
}

export function chatRoutes(engine: DialogEngine, push: PushHub): ChatRoutes {
  const router = Router();
  const streams = new Set<Response>();

  router.post('/api/chat', async (req: Request, res: Response) => {
    let inbound: Inbound;
    try {
      inbound = inboundFrom(req.body);
    } catch (e) {
      if (e instanceof BadRequest) return void res.status(400).json({ error: e.message });
      throw e;
    }
    try {
      const r = await engine.handle(inbound, WEB_MAX_TEXT);
      res.json({
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

  router.get('/api/chat/events', (req: Request, res: Response) => {
    const userId = typeof req.query.userId === 'string' ? req.query.userId.trim() : '';
    if (!userId || userId.length > 128) return void res.status(400).json({ error: '缺少 userId (userId is required)' });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const unsubscribe = push.subscribe(WEB_CHANNEL, userId, (replies) => res.write(`event: message\ndata: ${JSON.stringify({ replies })}\n\n`));
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    streams.add(res);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    });
  });

  return { router, closeStreams: () => streams.forEach((s) => s.end()) };
}
