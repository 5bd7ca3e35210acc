/**
 * A local WeCom 微信客服 simulator speaking the real endpoints, rules and limits over HTTP:
 * gettoken (with expiry), kf/sync_msg (cursor, has_more), kf/send_msg (session states,
 * 48-hour window, 5-message budget, 2048-byte texts, ≤10 menu items, msgid idempotency),
 * kf/send_msg_on_event (20-second welcome code), service_state get/trans and app messages.
 * It plays citizens too: their messages are queued and announced to 小安 by an encrypted,
 * signed callback, as WeCom does. Used by the tests and by `xiaoan wecom-sim`.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { WecomCrypto } from './crypto.ts';

export interface SimulatorOptions {
  corpId: string;
  secret: string;
  token: string;
  encodingAesKey: string;
  openKfId: string;
  /** Where 小安 listens for callbacks (…/wecom/callback). */
  callbackUrl?: string;
  tokenTtlSeconds?: number;
  now?: () => number;
}

interface Citizen {
  state: number;
  servicer?: string;
  lastCitizenAt: number;
  sentSince: number;
}

export interface SentMessage {
  touser: string;
  msgtype: string;
  content?: string;
  menu?: { head_content?: string; list: Array<{ type: string; click?: { id: string; content: string } }>; tail_content?: string };
  msgid: string;
  at: number;
}

const WINDOW_MS = 48 * 3_600_000;
const BUDGET = 5;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export class WecomSimulator {
  readonly sent: SentMessage[] = [];
  readonly appMessages: Array<Record<string, unknown>> = [];
  readonly events: Array<{ type: string; msgid?: string }> = [];
  private readonly tokens = new Map<string, number>();
  private readonly citizens = new Map<string, Citizen>();
  private readonly log: Array<Record<string, unknown>> = [];
  private readonly sentByMsgid = new Map<string, { msgid: string }>();
  private readonly welcomeCodes = new Map<string, { user: string; expires: number }>();
  private readonly faults: Array<{ path: string; errcode: number }> = [];
  private readonly crypto: WecomCrypto;
  private server: Server | null = null;
  gettokenCalls = 0;
  syncMsgCalls = 0;
  baseUrl = '';

  constructor(private readonly o: SimulatorOptions) {
    this.crypto = new WecomCrypto(o.token, o.encodingAesKey, o.corpId);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private citizen(id: string): Citizen {
    let c = this.citizens.get(id);
    if (!c) this.citizens.set(id, (c = { state: 0, lastCitizenAt: 0, sentSince: 0 }));
    return c;
  }

  /** The next call to this path fails with this WeCom error code. */
  failNext(path: string, errcode: number): void {
    this.faults.push({ path, errcode });
  }

  expireTokens(): void {
    for (const t of this.tokens.keys()) this.tokens.set(t, 0);
  }

  state(userId: string): number {
    return this.citizen(userId).state;
  }

  app(): express.Express {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    const reply = (res: Response, body: Record<string, unknown>) => res.json({ errcode: 0, errmsg: 'ok', ...body });
    const fail = (res: Response, errcode: number, errmsg: string) => res.json({ errcode, errmsg });
    const guard = (req: Request, res: Response): boolean => {
      const fault = this.faults.findIndex((f) => f.path === req.path);
      if (fault >= 0) {
        const { errcode } = this.faults.splice(fault, 1)[0]!;
        fail(res, errcode, 'injected');
        return false;
      }
      const token = String(req.query.access_token ?? '');
      const exp = this.tokens.get(token);
      if (exp === undefined) return fail(res, 40014, 'invalid access_token'), false;
      if (exp <= this.now()) return fail(res, 42001, 'access_token expired'), false;
      return true;
    };

    app.get('/cgi-bin/gettoken', (req, res) => {
      this.gettokenCalls++;
      if (req.query.corpid !== this.o.corpId || req.query.corpsecret !== this.o.secret) return fail(res, 40001, 'invalid credential');
      const token = randomBytes(16).toString('hex');
      const ttl = this.o.tokenTtlSeconds ?? 7200;
      this.tokens.set(token, this.now() + ttl * 1000);
      reply(res, { access_token: token, expires_in: ttl });
    });

    app.post('/cgi-bin/kf/sync_msg', (req, res) => {
      this.syncMsgCalls++;
      if (!guard(req, res)) return;
      const b = req.body as { cursor?: string; limit?: number; open_kfid?: string };
      if (b.open_kfid !== this.o.openKfId) return fail(res, 95000, 'invalid open_kfid');
      const from = b.cursor ? Number(b.cursor) : Math.max(0, this.log.length - 1000);
      const limit = Math.min(b.limit ?? 1000, 1000);
      const list = this.log.slice(from, from + limit);
      reply(res, { next_cursor: String(from + list.length), has_more: from + list.length < this.log.length ? 1 : 0, msg_list: list });
    });

    app.post('/cgi-bin/kf/send_msg', (req, res) => {
      if (!guard(req, res)) return;
      const b = req.body as { touser: string; open_kfid: string; msgid?: string; msgtype: string; text?: { content: string }; msgmenu?: SentMessage['menu'] };
      if (b.open_kfid !== this.o.openKfId) return fail(res, 95000, 'invalid open_kfid');
      if (b.msgid && this.sentByMsgid.has(b.msgid)) return reply(res, this.sentByMsgid.get(b.msgid)!);
      const c = this.citizen(b.touser);
      if (c.state !== 0 && c.state !== 1) return fail(res, 95018, 'invalid session state');
      if (!c.lastCitizenAt || this.now() - c.lastCitizenAt > WINDOW_MS) return fail(res, 95002, 'over 48 hours');
      if (c.sentSince >= BUDGET) return fail(res, 95001, 'over 5 messages');
      if (b.msgtype === 'text' && (!b.text?.content || bytes(b.text.content) > 2048)) return fail(res, 44004, 'text content empty or over 2048 bytes');
      if (b.msgtype === 'msgmenu' && (!b.msgmenu?.list?.length || b.msgmenu.list.length > 10)) return fail(res, 95008, 'menu has 0 or more than 10 items');
      c.sentSince++;
      const msgid = b.msgid ?? randomBytes(8).toString('hex');
      this.sent.push({ touser: b.touser, msgtype: b.msgtype, content: b.text?.content, menu: b.msgmenu, msgid, at: this.now() });
      this.sentByMsgid.set(msgid, { msgid });
      reply(res, { msgid });
    });

    app.post('/cgi-bin/kf/send_msg_on_event', (req, res) => {
      if (!guard(req, res)) return;
      const b = req.body as { code: string; msgid?: string; msgtype: string; text?: { content: string }; msgmenu?: SentMessage['menu'] };
      const w = this.welcomeCodes.get(b.code);
      if (!w || w.expires < this.now()) return fail(res, 95007, 'invalid or expired code');
      this.welcomeCodes.delete(b.code);
      const msgid = b.msgid ?? randomBytes(8).toString('hex');
      this.sent.push({ touser: w.user, msgtype: b.msgtype, content: b.text?.content, menu: b.msgmenu, msgid, at: this.now() });
      reply(res, { msgid });
    });

    app.post('/cgi-bin/kf/service_state/get', (req, res) => {
      if (!guard(req, res)) return;
      const c = this.citizen(String((req.body as { external_userid: string }).external_userid));
      reply(res, { service_state: c.state, servicer_userid: c.servicer ?? '' });
    });

    app.post('/cgi-bin/kf/service_state/trans', (req, res) => {
      if (!guard(req, res)) return;
      const b = req.body as { external_userid: string; service_state: number; servicer_userid?: string };
      if (![1, 2, 3, 4].includes(b.service_state)) return fail(res, 95016, 'invalid service state');
      if (b.service_state === 3 && !b.servicer_userid) return fail(res, 95014, 'servicer required');
      const c = this.citizen(b.external_userid);
      c.state = b.service_state;
      c.servicer = b.servicer_userid;
      reply(res, {});
    });

    app.post('/cgi-bin/message/send', (req, res) => {
      if (!guard(req, res)) return;
      this.appMessages.push(req.body as Record<string, unknown>);
      reply(res, {});
    });
    return app;
  }

  async start(port = 0): Promise<string> {
    this.server = this.app().listen(port, '127.0.0.1');
    await new Promise<void>((resolve) => this.server!.once('listening', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private push(msg: Record<string, unknown>): void {
    this.log.push({ msgid: randomBytes(8).toString('hex'), open_kfid: this.o.openKfId, send_time: Math.floor(this.now() / 1000), ...msg });
  }

  /** A citizen writes (text, or a menu click); the window and budget start again. */
  citizenSays(userId: string, text: string, menuId?: string): void {
    const c = this.citizen(userId);
    c.lastCitizenAt = this.now();
    c.sentSince = 0;
    if (c.state === 0) c.state = 1;
    this.push({ external_userid: userId, origin: 3, msgtype: 'text', text: menuId ? { content: text, menu_id: menuId } : { content: text } });
  }

  /** A citizen opens the chat: an enter_session event with a welcome code valid 20 s. */
  citizenEnters(userId: string): string {
    const code = randomBytes(8).toString('hex');
    this.welcomeCodes.set(code, { user: userId, expires: this.now() + 20_000 });
    this.push({ origin: 4, msgtype: 'event', event: { event_type: 'enter_session', open_kfid: this.o.openKfId, external_userid: userId, welcome_code: code } });
    return code;
  }

  /** A human servicer takes the chat (state 3), or it ends (4). */
  sessionChanges(userId: string, state: 3 | 4, servicer = 'staff01'): void {
    const c = this.citizen(userId);
    c.state = state;
    c.servicer = state === 3 ? servicer : undefined;
    this.push({ origin: 4, msgtype: 'event', event: { event_type: 'session_status_change', open_kfid: this.o.openKfId, external_userid: userId, change_type: state === 3 ? 1 : 3, new_servicer_userid: c.servicer } });
  }

  /**
   * The callback WeCom makes to announce new messages: a kf_msg_or_event, encrypted and signed
   * with the timestamp given (default now) and a fresh nonce. WeCom sends it again, the same,
   * when it gets no "success" within 5 s.
   */
  callbackRequest(timestamp = String(Math.floor(this.now() / 1000))): { url: string; init: RequestInit } {
    if (!this.o.callbackUrl) throw new Error('no callbackUrl configured');
    const xml = `<xml><ToUserName><![CDATA[${this.o.corpId}]]></ToUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[sync-${randomBytes(4).toString('hex')}]]></Token><OpenKfId><![CDATA[${this.o.openKfId}]]></OpenKfId></xml>`;
    const encrypt = this.crypto.encrypt(xml);
    const nonce = randomBytes(4).toString('hex');
    const signature = this.crypto.signature(timestamp, nonce, encrypt);
    return {
      url: `${this.o.callbackUrl}?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`,
      init: {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: `<xml><ToUserName><![CDATA[${this.o.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>`,
      },
    };
  }

  /** Announces new messages to 小安; times > 1 repeats the same request (WeCom's retries). Returns the statuses. */
  async announce(times = 1): Promise<number[]> {
    const { url, init } = this.callbackRequest();
    const statuses: number[] = [];
    for (let i = 0; i < times; i++) statuses.push((await fetch(url, init)).status);
    return statuses;
  }
}
