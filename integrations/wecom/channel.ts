/**
 * The 微信客服 channel: WeCom's callbacks only announce messages; this channel pulls them
 * (one pull loop per account, across processes, by a lease in the store), persists the
 * cursor after each batch, handles each msgid once, translates citizen messages into the
 * engine's neutral messages, and sends the replies within WeCom's rules (2048-byte texts,
 * menus as msgmenu, a 5-message budget and 48-hour window per citizen, "继续" for the rest).
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { DialogEngine } from '../../bot/engine.ts';
import type { Inbound, Reply } from '../../bot/messages.ts';
import type { Database } from '../../bot/store/database.ts';
import { splitText, utf8Bytes } from '../../bot/text-split.ts';
import { WecomApiError, type WecomClient } from './client.ts';
import type { WecomCrypto } from './crypto.ts';
import { readEnvelope, readEvent } from './envelope.ts';

export const CHANNEL = 'wecom';
const BUDGET = 5;
const WINDOW_MS = 48 * 3_600_000;
const LEASE_MS = 60_000;
const MAX_TEXT_BYTES = 2048;
const MORE = '继续';
const MORE_HINT = "（内容较长，回复“继续”查看更多）";

type WecomMessage =
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'msgmenu'; msgmenu: { head_content?: string; list: Array<{ type: 'click'; click: { id: string; content: string } }>; tail_content?: string } };

const clip = (s: string, maxBytes: number) => {
  let out = '';
  for (const ch of s) {
    if (utf8Bytes(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
};

/** Neutral replies as WeCom messages: long texts split at 2048 bytes, menus as msgmenu. */
export function toWecomMessages(replies: Reply[]): WecomMessage[] {
  const out: WecomMessage[] = [];
  for (const r of replies) {
    if (r.type === 'text') {
      for (const part of splitText(r.text, MAX_TEXT_BYTES, utf8Bytes)) out.push({ msgtype: 'text', text: { content: part } });
    } else if (r.type === 'menu') {
      out.push({
        msgtype: 'msgmenu',
        msgmenu: {
          head_content: clip(r.head, 1024),
          // A click comes back as text with menu_id; ids over 64 bytes are sent as the label instead.
          list: r.items.slice(0, 10).map((it, i) => ({ type: 'click', click: { id: utf8Bytes(it.id) <= 64 ? it.id : `label:${i}`, content: clip(it.label, 128) } })),
          ...(r.tail ? { tail_content: clip(r.tail, 1024) } : {}),
        },
      });
    } else if (r.type === 'link') {
      out.push({ msgtype: 'text', text: { content: `${r.title}：${r.url}` } });
    } else {
      for (const part of splitText(`${r.title}\n${r.body}`, MAX_TEXT_BYTES, utf8Bytes)) out.push({ msgtype: 'text', text: { content: part } });
    }
  }
  return out;
}

export interface WecomChannelOptions {
  db: Database;
  engine: DialogEngine;
  client: WecomClient;
  crypto: WecomCrypto;
  openKfId: string;
  /** Where hand-overs go: the queue (2) or a named servicer (3). */
  servicerUserId?: string;
  /** Staff who get a hand-over summary as an internal app message. */
  staffAlert?: { agentId: number; touser: string };
  now?: () => Date;
}

export class WecomChannel {
  private readonly me = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly o: WecomChannelOptions) {}

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  routes(): Router {
    const router = Router();
    const { crypto } = this.o;
    // URL verification: answer the decrypted echostr alone.
    router.get('/wecom/callback', (req: Request, res: Response) => {
      const q = req.query as Record<string, string | undefined>;
      if (!q.msg_signature || !q.timestamp || !q.nonce || !q.echostr) return void res.status(400).send('missing parameters');
      if (!crypto.verify(q.msg_signature, q.timestamp, q.nonce, q.echostr)) return void res.status(401).send('bad signature');
      try {
        res.type('text/plain').send(crypto.decrypt(q.echostr));
      } catch {
        res.status(400).send('cannot decrypt');
      }
    });
    router.post('/wecom/callback', express.text({ type: () => true, limit: '64kb' }), (req: Request, res: Response) => {
      const q = req.query as Record<string, string | undefined>;
      let event;
      try {
        const { encrypt } = readEnvelope(String(req.body ?? ''));
        if (!q.msg_signature || !q.timestamp || !q.nonce || !crypto.verify(q.msg_signature, q.timestamp, q.nonce, encrypt)) {
          return void res.status(401).send('bad signature');
        }
        event = readEvent(crypto.decrypt(encrypt));
      } catch {
        return void res.status(400).send('malformed callback');
      }
      // Acknowledge at once (WeCom retries after 5 s); pull in the background.
      res.send('success');
      if (event.event === 'kf_msg_or_event' && event.openKfId === this.o.openKfId) void this.pull(event.token);
    });
    return router;
  }

  /** Pulls until nothing is left; a call while a pull runs makes it pull once more. */
  pull(syncToken?: string): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pullOnce(syncToken);
        } while (this.again);
      } catch (e) {
        console.error('wecom pull:', (e as Error).message);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Waits for a pull in progress (tests, shutdown). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async pullOnce(syncToken?: string): Promise<void> {
    const { db, client, openKfId } = this.o;
    await db.query('INSERT INTO wecom_cursors (open_kfid) VALUES ($1) ON CONFLICT DO NOTHING', [openKfId]);
    for (;;) {
      // The lease: only one process pulls an account at a time.
      const { rows } = await db.query<{ cursor: string | null }>(
        `UPDATE wecom_cursors SET lease_until = $2, holder = $3, updated_at = now()
         WHERE open_kfid = $1 AND (lease_until < $4 OR holder = $3) RETURNING cursor`,
        [openKfId, new Date(this.now().getTime() + LEASE_MS).toISOString(), this.me, this.now().toISOString()],
      );
      if (!rows[0]) return; // another process is pulling; it will see these messages
      const batch = await client.syncMsg({ open_kfid: openKfId, cursor: rows[0].cursor ?? undefined, token: syncToken });
      const spoke = new Set<string>();
      for (const m of batch.msg_list ?? []) await this.handleMessage(m, spoke);
      // The cursor is saved after the batch is handled: a restart resumes, nothing is replayed twice.
      await db.query('UPDATE wecom_cursors SET cursor = $2, updated_at = now() WHERE open_kfid = $1', [openKfId, batch.next_cursor ?? rows[0].cursor]);
      if (!batch.has_more) break;
    }
    await db.query(`UPDATE wecom_cursors SET lease_until = 'epoch' WHERE open_kfid = $1 AND holder = $2`, [openKfId, this.me]);
  }

  /** @param spoke citizens who already wrote in this batch (their budget was reset once). */
  private async handleMessage(m: Record<string, unknown>, spoke: Set<string>): Promise<void> {
    const { db, engine } = this.o;
    const msgid = String(m.msgid ?? '');
    const fresh = await db.query('INSERT INTO wecom_seen (msgid) VALUES ($1) ON CONFLICT DO NOTHING RETURNING msgid', [msgid]);
    if (!fresh.rows.length) return;

    if (m.msgtype === 'event') {
      const e = m.event as Record<string, string | number | undefined>;
      const user = String(e.external_userid ?? '');
      if (e.event_type === 'enter_session' && e.welcome_code) {
        const r = await engine.handle({ channel: CHANNEL, userId: user, kind: 'event', event: 'enter_session' });
        const [first] = toWecomMessages(r.replies);
        if (first) await this.send(() => this.o.client.sendMsgOnEvent({ code: e.welcome_code, ...first }), user);
      } else if (e.event_type === 'session_status_change') {
        // 1 taken by a servicer, 2 transferred, 3 ended, 4 re-entered.
        const change = Number(e.change_type);
        if (change === 1 || change === 2) await engine.setHandedOver(CHANNEL, user, true);
        if (change === 3 || change === 4) await engine.setHandedOver(CHANNEL, user, false);
      } else if (e.event_type === 'msg_send_fail') {
        await this.recordFailure(user, String(e.fail_msgid ?? ''), `msg_send_fail ${String(e.fail_type ?? '')}`);
      }
      return;
    }
    // Only origin 3 is the citizen; 4 system and 5 a human servicer are not chat input.
    if (Number(m.origin) !== 3) return;
    const user = String(m.external_userid ?? '');
    await this.citizenSpoke(user, !spoke.has(user));
    spoke.add(user);
    const inbound = this.toInbound(user, m);
    if (inbound.kind === 'text' && inbound.text?.trim() === MORE && (await this.sendPending(user))) return;
    const r = await engine.handle(inbound, 4000);
    await this.deliver(user, toWecomMessages(r.replies));
    for (const e of r.effects) {
      if (e.type !== 'handoff_requested' || !e.queued) continue;
      // To the queue (2), or straight to a named servicer (3).
      const servicer = this.o.servicerUserId;
      await this.o.client.transServiceState({ open_kfid: this.o.openKfId, external_userid: user, service_state: servicer ? 3 : 2, ...(servicer ? { servicer_userid: servicer } : {}) });
      if (this.o.staffAlert) {
        const summary = [`小安转人工：${e.summary.item ? e.summary.item.name : '未确定事项'}`, ...e.summary.lastQuestions.map((q) => `· ${q}`)].join('\n');
        await this.o.client.sendAppMessage({ touser: this.o.staffAlert.touser, agentid: this.o.staffAlert.agentId, msgtype: 'text', text: { content: summary } }).catch((err: Error) =>
          this.recordFailure(user, '', `staff alert: ${err.message}`),
        );
      }
    }
  }

  /**
   * A proactive message (a case result, a survey) inside the citizen's window; outside it,
   * or over the budget, it waits for their next message. Returns 1 when sent.
   */
  async push(user: string, replies: Reply[]): Promise<number> {
    const { rows } = await this.o.db.query<{ last_citizen_at: Date | string; sent: number }>(
      'SELECT last_citizen_at, sent FROM wecom_budget WHERE open_kfid = $1 AND external_userid = $2',
      [this.o.openKfId, user],
    );
    const b = rows[0];
    if (!b || this.now().getTime() - new Date(b.last_citizen_at).getTime() >= WINDOW_MS || b.sent >= BUDGET) return 0;
    await this.deliver(user, toWecomMessages(replies));
    return 1;
  }

  private toInbound(user: string, m: Record<string, unknown>): Inbound {
    const base = { channel: CHANNEL, userId: user };
    if (m.msgtype === 'text') {
      const t = m.text as { content?: string; menu_id?: string };
      if (t.menu_id && !t.menu_id.startsWith('label:')) return { ...base, kind: 'menu', menuId: t.menu_id };
      return { ...base, kind: 'text', text: String(t.content ?? '').slice(0, 2000) || ' ' };
    }
    if (m.msgtype === 'location') {
      const l = m.location as { latitude?: number; longitude?: number; name?: string };
      return { ...base, kind: 'location', location: { lat: Number(l.latitude), lng: Number(l.longitude), label: l.name } };
    }
    if (m.msgtype === 'image') return { ...base, kind: 'image' };
    if (m.msgtype === 'voice') return { ...base, kind: 'voice' };
    return { ...base, kind: 'file' };
  }

  /**
   * A citizen message opens a new 48-hour window with a fresh budget of 5. Messages pulled
   * in one batch all reached WeCom before any reply to them, so replies to a burst share
   * one budget: only the citizen's first message of a batch resets it.
   */
  private async citizenSpoke(user: string, resets: boolean): Promise<void> {
    await this.o.db.query(
      `INSERT INTO wecom_budget (open_kfid, external_userid, last_citizen_at, sent) VALUES ($1, $2, $3, 0)
       ON CONFLICT (open_kfid, external_userid) DO UPDATE SET
         last_citizen_at = EXCLUDED.last_citizen_at, sent = CASE WHEN $4 THEN 0 ELSE wecom_budget.sent END`,
      [this.o.openKfId, user, this.now().toISOString(), resets],
    );
  }

  /**
   * Sends within the budget. When the answer needs more messages than are left, the last
   * one left says how to get the rest, which waits for "继续".
   */
  private async deliver(user: string, messages: WecomMessage[]): Promise<void> {
    const { rows } = await this.o.db.query<{ sent: number; last_citizen_at: Date | string }>(
      'SELECT sent, last_citizen_at FROM wecom_budget WHERE open_kfid = $1 AND external_userid = $2',
      [this.o.openKfId, user],
    );
    const b = rows[0];
    const open = b && this.now().getTime() - new Date(b.last_citizen_at).getTime() < WINDOW_MS;
    const left = open ? BUDGET - b.sent : 0;
    let now = messages;
    let later: WecomMessage[] = [];
    if (messages.length > left) {
      now = messages.slice(0, Math.max(0, left - 1));
      later = messages.slice(now.length);
      if (left > 0) now.push({ msgtype: 'text', text: { content: MORE_HINT } });
    }
    let sent = 0;
    for (const m of now) {
      const msgid = randomBytes(12).toString('hex');
      if (await this.send(() => this.o.client.sendMsg({ touser: user, open_kfid: this.o.openKfId, msgid, ...m }), user)) sent++;
      else break;
    }
    await this.o.db.query('UPDATE wecom_budget SET sent = sent + $3, pending = $4 WHERE open_kfid = $1 AND external_userid = $2', [
      this.o.openKfId,
      user,
      sent,
      JSON.stringify(later),
    ]);
  }

  /** "继续": sends what the budget held back. False when nothing was waiting. */
  private async sendPending(user: string): Promise<boolean> {
    const { rows } = await this.o.db.query<{ pending: WecomMessage[] }>('SELECT pending FROM wecom_budget WHERE open_kfid = $1 AND external_userid = $2', [
      this.o.openKfId,
      user,
    ]);
    const pending = rows[0]?.pending ?? [];
    if (!pending.length) return false;
    await this.deliver(user, pending);
    return true;
  }

  /**
   * One send. A WeCom refusal (95001 budget, 95002 window, 95018 session state …; the
   * client already retried 45009 and 5xx) is recorded, not thrown: retrying cannot fix it now.
   */
  private async send(call: () => Promise<unknown>, user: string): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (e) {
      if (e instanceof WecomApiError && e.errcode > 0) {
        await this.recordFailure(user, '', `${e.errcode} ${e.errmsg}`);
        return false;
      }
      throw e;
    }
  }

  private async recordFailure(user: string, msgid: string, reason: string): Promise<void> {
    await this.o.db.query('INSERT INTO wecom_send_failures (external_userid, msgid, reason) VALUES ($1, $2, $3)', [user, msgid, reason]);
  }
}
