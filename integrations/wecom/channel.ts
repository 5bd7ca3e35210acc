/**
 * The 微信客服 channel: WeCom's callbacks only announce messages; this channel pulls them
 * (one pull loop per account, across processes, by a short lease in the store renewed while
 * pulling), translates citizen messages into the engine's neutral messages, and sends the
 * replies within WeCom's rules (2048-byte texts, menus as msgmenu, a 5-message budget and
 * 48-hour window per citizen, "继续" for the rest).
 *
 * Delivery is at least once inside, exactly once to the citizen: a callback is refused when its
 * timestamp is stale or it was seen before; a msgid is recorded as handled in the write that saves
 * its turn (the engine's messageId), its replies go out with msgids derived from it (a resend is
 * the same message to WeCom) and are then marked delivered; the cursor moves past a batch only
 * when every message in it is done. A message whose handling throws is tried again at later
 * pulls and, after a few tries, answered with an apology. A timer pull catches lost callbacks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import express, { Router, type Request, type Response } from 'express';
import { MAX_MESSAGE_CHARS, type DialogEngine } from '../../bot/engine.ts';
import { fallbackLog, type Logger } from '../../bot/log.ts';
import type { Inbound, Reply } from '../../bot/messages.ts';
import type { Database } from '../../bot/store/database.ts';
import { handledMessage, markDelivered } from '../../bot/store/conversations.ts';
import { storable, wellFormed } from '../../bot/storable-text.ts';
import { splitText, utf8Bytes } from '../../bot/text-split.ts';
import { text } from '../../handlers/texts.ts';
import { WecomApiError, type WecomClient } from './client.ts';
import type { WecomCrypto } from './crypto.ts';
import { readEnvelope, readEvent } from './envelope.ts';

export const CHANNEL = 'wecom';
const BUDGET = 5;
const WINDOW_MS = 48 * 3_600_000;
const MAX_TEXT_BYTES = 2048;
const MORE = '继续';
const MORE_HINT = "（内容较长，回复“继续”查看更多）";
/** A callback's timestamp may be this far from our clock, either way. */
export const CALLBACK_SKEW_MS = 5 * 60_000;
const DEFAULTS = { pollMs: 30_000, idlePollMs: 5 * 60_000, activeMs: WINDOW_MS, leaseMs: 10_000, maxAttempts: 3, retryDelayMs: 10_000 };

/**
 * This host as process ids see it: the host name and the pid namespace (containers on one
 * host have their own pids). A lease held by a pid of the same host that is gone is free.
 */
export const LEASE_HOST = (() => {
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    // not Linux: the host name alone
  }
  return `${os.hostname()}|${ns}`;
})();

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // unknown: assume alive, wait for the lease to run out
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The msgid of a message sent in answer to an inbound msgid (the i-th, or a named one): the
 * same every time, so a resend after a crash is one message to WeCom. 32 hex characters
 * (WeCom allows at most 32 bytes of [0-9a-zA-Z_-]).
 */
export function replyMsgId(inboundMsgid: string, i: number | string): string {
  return createHash('sha256').update(`${inboundMsgid}\u0000${i}`).digest('hex').slice(0, 32);
}

/** The key a pulled message is known by: its msgid when it is a sane one, else a hash. */
function messageKey(m: Record<string, unknown>): string {
  const id = typeof m.msgid === 'string' ? m.msgid : '';
  if (id && id.length <= 100 && wellFormed(id)) return id;
  return `h:${createHash('sha256').update(id || JSON.stringify(m)).digest('hex').slice(0, 40)}`;
}

/** Citizen text the engine accepts: control characters and broken Unicode dropped, at most MAX_MESSAGE_CHARS. */
const clean = (s: string) => storable(storable(s).slice(0, MAX_MESSAGE_CHARS));

const errorText = (e: unknown) => storable(e instanceof Error ? e.message : String(e)).slice(0, 500);

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
  /** The timer pull: this often while the account is active (default 30 s). */
  pollMs?: number;
  /** … and at least this often when it is not, for a callback lost while nobody talked (default 5 min). */
  idlePollMs?: number;
  /** Active: a citizen wrote within this long (default 48 h, the window in which replies can be sent). */
  activeMs?: number;
  /** The pull lease (default 10 s), renewed every third of it while pulling. */
  leaseMs?: number;
  /** Tries of a message whose handling throws before it is answered with an apology (default 3). */
  maxAttempts?: number;
  /** At least this long between two tries of such a message (default 10 s). */
  retryDelayMs?: number;
  log?: Logger;
}

export class WecomChannel {
  private readonly me = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly c: typeof DEFAULTS;
  private running: Promise<void> | null = null;
  private again = false;
  private nextToken: string | undefined;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastPullAt = 0;
  /** The last pull left something to do (a message to try again, or it failed). */
  private unfinished = false;
  private readonly log: Logger;

  constructor(private readonly o: WecomChannelOptions) {
    this.log = o.log ?? fallbackLog();
    this.c = {
      pollMs: o.pollMs ?? DEFAULTS.pollMs,
      idlePollMs: o.idlePollMs ?? DEFAULTS.idlePollMs,
      activeMs: o.activeMs ?? DEFAULTS.activeMs,
      leaseMs: o.leaseMs ?? DEFAULTS.leaseMs,
      maxAttempts: o.maxAttempts ?? DEFAULTS.maxAttempts,
      retryDelayMs: o.retryDelayMs ?? DEFAULTS.retryDelayMs,
    };
  }

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  routes(): Router {
    const router = Router();
    const { crypto } = this.o;
    const param = (req: Request, k: string) => {
      const v = (req.query as Record<string, unknown>)[k];
      return typeof v === 'string' && v ? v : undefined;
    };
    // URL verification: answer the decrypted echostr alone.
    router.get('/wecom/callback', async (req: Request, res: Response) => {
      const [sig, ts, nonce, echostr] = ['msg_signature', 'timestamp', 'nonce', 'echostr'].map((k) => param(req, k));
      if (!sig || !ts || !nonce || !echostr) return void res.status(400).send('missing parameters');
      if (!crypto.verify(sig, ts, nonce, echostr)) return void res.status(401).send('bad signature');
      let echo: string;
      try {
        echo = crypto.decrypt(echostr);
      } catch {
        return void res.status(400).send('cannot decrypt');
      }
      const refused = await this.admit(sig, ts, nonce).catch(() => 'unavailable');
      if (refused) return void res.status(refused === 'unavailable' ? 503 : 403).send(refused);
      res.type('text/plain').send(echo);
    });
    router.post('/wecom/callback', express.text({ type: () => true, limit: '64kb' }), async (req: Request, res: Response) => {
      const [sig, ts, nonce] = ['msg_signature', 'timestamp', 'nonce'].map((k) => param(req, k));
      let event;
      try {
        const { encrypt } = readEnvelope(String(req.body ?? ''));
        if (!sig || !ts || !nonce || !crypto.verify(sig, ts, nonce, encrypt)) return void res.status(401).send('bad signature');
        event = readEvent(crypto.decrypt(encrypt));
      } catch {
        return void res.status(400).send('malformed callback');
      }
      const refused = await this.admit(sig, ts, nonce).catch(() => 'unavailable');
      if (refused) return void res.status(refused === 'unavailable' ? 503 : 403).send(refused);
      // Acknowledge at once (WeCom retries after 5 s); pull in the background.
      res.send('success');
      if (event.event === 'kf_msg_or_event' && event.openKfId === this.o.openKfId) void this.pull(event.token);
    });
    return router;
  }

  /**
   * A signed callback is taken once and only while fresh: null, or why it is refused. Its
   * (nonce, signature) is remembered until its timestamp is stale even to a clock 5 minutes
   * behind ours; older rows are purged in the same statement.
   */
  private async admit(signature: string, timestamp: string, nonce: string): Promise<string | null> {
    const now = this.now().getTime();
    const at = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) * 1000 : NaN;
    if (!Number.isFinite(at) || Math.abs(now - at) > CALLBACK_SKEW_MS) return 'stale timestamp';
    const { rows } = await this.o.db.query(
      `WITH purged AS (DELETE FROM wecom_callback_nonces WHERE expires_at < $4)
       INSERT INTO wecom_callback_nonces (nonce, signature, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING nonce`,
      [nonce, signature, new Date(at + 2 * CALLBACK_SKEW_MS).toISOString(), new Date(now).toISOString()],
    );
    return rows.length ? null : 'replayed callback';
  }

  /** Starts the timer pull, and catches up at once on what arrived while 小安 was down. */
  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => void this.tick(), this.c.pollMs);
    this.timer.unref();
    void this.pull();
  }

  /** Stops the timer pull (shutdown); a pull in progress finishes (see idle()). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One tick of the timer: pulls when a citizen wrote recently (open sessions), when the last
   * pull left a message to try again, or when nothing was pulled for idlePollMs.
   */
  async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    try {
      if (!(await this.due())) return;
    } catch (e) {
      this.log.error({ err: e }, 'wecom poll failed');
      return;
    }
    if (!this.stopped) await this.pull();
  }

  private async due(): Promise<boolean> {
    const now = this.now().getTime();
    if (this.unfinished || now - this.lastPullAt >= this.c.idlePollMs) return true;
    const { rows } = await this.o.db.query<{ active: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM wecom_budget WHERE open_kfid = $1 AND last_citizen_at > $2) AS active',
      [this.o.openKfId, new Date(now - this.c.activeMs).toISOString()],
    );
    return Boolean(rows[0]?.active);
  }

  /** Pulls until nothing is left; a call while a pull runs makes it pull once more. */
  pull(syncToken?: string): Promise<void> {
    if (this.running) {
      this.again = true;
      this.nextToken = syncToken ?? this.nextToken;
      return this.running;
    }
    this.running = (async () => {
      let token = syncToken;
      try {
        do {
          this.again = false;
          await this.pullOnce(token);
          token = this.nextToken;
          this.nextToken = undefined;
        } while (this.again);
      } catch (e) {
        this.unfinished = true;
        this.log.error({ err: e }, 'wecom pull failed');
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
    this.lastPullAt = this.now().getTime();
    await db.query('INSERT INTO wecom_cursors (open_kfid) VALUES ($1) ON CONFLICT DO NOTHING', [openKfId]);
    const lease = await this.acquire();
    if (!lease) return; // another live process is pulling; it (or the timer) will see these messages
    let lost = false;
    let beating = false;
    const beat = setInterval(() => {
      if (beating) return;
      beating = true;
      this.renew()
        .then((held) => void (lost ||= !held))
        .catch(() => {})
        .finally(() => (beating = false));
    }, Math.max(10, Math.floor(this.c.leaseMs / 3)));
    beat.unref();
    let cursor = lease.cursor;
    // The cursor is saved only past batches whose every message is done: a restart resumes there,
    // and what was handled already is skipped (or only sent again, idempotently).
    let behind = false;
    let clean = false;
    try {
      for (;;) {
        const batch = await client.syncMsg({ open_kfid: openKfId, cursor: cursor ?? undefined, token: syncToken });
        const spoke = new Set<string>();
        for (const m of batch.msg_list ?? []) {
          if (lost) return; // the lease went to another process: it resumes from the saved cursor
          if (!(await this.handleMessage(m, spoke))) behind = true;
        }
        cursor = batch.next_cursor ?? cursor;
        if (!behind) {
          const saved = await db.query(
            `UPDATE wecom_cursors SET cursor = $2, lease_until = now() + $4 * interval '1 millisecond', updated_at = now()
             WHERE open_kfid = $1 AND holder = $3 RETURNING open_kfid`,
            [openKfId, cursor, this.me, this.c.leaseMs],
          );
          if (!saved.rows.length) return;
        }
        if (lost || !batch.has_more) break;
      }
      clean = !behind && !lost;
    } finally {
      clearInterval(beat);
      this.unfinished = !clean;
      await db.query(`UPDATE wecom_cursors SET lease_until = 'epoch' WHERE open_kfid = $1 AND holder = $2`, [openKfId, this.me]).catch(() => {});
    }
  }

  /**
   * Takes the lease when it is free, ran out, is ours, or belongs to a process of this host
   * that is gone. Times are the database's, one clock for every process.
   */
  private async acquire(): Promise<{ cursor: string | null } | null> {
    const { db, openKfId } = this.o;
    const take = (condition: string, extra: unknown[] = []) =>
      db.query<{ cursor: string | null }>(
        `UPDATE wecom_cursors SET lease_until = now() + $2 * interval '1 millisecond', holder = $3, holder_host = $4, holder_pid = $5, updated_at = now()
         WHERE open_kfid = $1 AND (${condition}) RETURNING cursor`,
        [openKfId, this.c.leaseMs, this.me, LEASE_HOST, process.pid, ...extra],
      );
    const { rows } = await take('lease_until < now() OR holder = $3 OR holder IS NULL');
    if (rows[0]) return rows[0];
    const held = (
      await db.query<{ holder: string; holder_host: string | null; holder_pid: number | null }>(
        'SELECT holder, holder_host, holder_pid FROM wecom_cursors WHERE open_kfid = $1',
        [openKfId],
      )
    ).rows[0];
    if (!held || held.holder_host !== LEASE_HOST || held.holder_pid === null || held.holder_pid === process.pid || processAlive(Number(held.holder_pid))) return null;
    // Its process is dead: take over now, if nobody else did meanwhile.
    const taken = await take('holder = $6', [held.holder]);
    return taken.rows[0] ?? null;
  }

  /** Renews our lease; false when it is no longer ours. */
  private async renew(): Promise<boolean> {
    const { rows } = await this.o.db.query(
      `UPDATE wecom_cursors SET lease_until = now() + $3 * interval '1 millisecond' WHERE open_kfid = $1 AND holder = $2 RETURNING open_kfid`,
      [this.o.openKfId, this.me, this.c.leaseMs],
    );
    return rows.length > 0;
  }

  /**
   * One pulled message. True when it is done with (answered, or recorded as failed); false
   * when it is to be tried again at a later pull (the cursor stays before its batch).
   * @param spoke citizens who already wrote in this batch (their budget was reset once).
   */
  private async handleMessage(m: Record<string, unknown>, spoke: Set<string>): Promise<boolean> {
    // Only origin 3 is the citizen; 4 system and 5 a human servicer are not chat input.
    if (m.msgtype !== 'event' && Number(m.origin) !== 3) return true;
    const { db } = this.o;
    const msgid = messageKey(m);
    const { rows } = await db.query<{ seen: boolean; attempts: number | null; last_at: Date | string | null }>(
      `SELECT EXISTS (SELECT 1 FROM wecom_seen WHERE msgid = $1) AS seen, a.attempts, a.last_at
       FROM (SELECT 1) AS one LEFT JOIN wecom_attempts a ON a.msgid = $1`,
      [msgid],
    );
    const r = rows[0]!;
    if (r.seen) return true;
    const attempts = Number(r.attempts ?? 0);
    if (attempts >= this.c.maxAttempts) return this.giveUp(m, msgid, spoke);
    if (attempts && r.last_at && this.now().getTime() - new Date(r.last_at).getTime() < this.c.retryDelayMs) return false;
    try {
      await this.process(m, msgid, spoke);
      return true;
    } catch (e) {
      const { rows: n } = await db.query<{ attempts: number }>(
        `INSERT INTO wecom_attempts (msgid, attempts, last_error, last_at) VALUES ($1, 1, $2, $3)
         ON CONFLICT (msgid) DO UPDATE SET attempts = wecom_attempts.attempts + 1, last_error = EXCLUDED.last_error, last_at = EXCLUDED.last_at
         RETURNING attempts`,
        [msgid, errorText(e), this.now().toISOString()],
      );
      const tries = Number(n[0]?.attempts ?? 1);
      this.log.warn({ msgid, tries, maxAttempts: this.c.maxAttempts, err: e }, 'wecom message failed');
      return tries >= this.c.maxAttempts ? this.giveUp(m, msgid, spoke) : false;
    }
  }

  /**
   * A message that kept failing: the citizen gets a short apology (sent with a derived msgid,
   * so once), and it is recorded as given up. False when even that could not be done.
   */
  private async giveUp(m: Record<string, unknown>, msgid: string, spoke: Set<string>): Promise<boolean> {
    try {
      const user = storable(String(m.external_userid ?? ''));
      if (m.msgtype !== 'event' && user) {
        await this.citizenSpoke(user, !spoke.has(user));
        spoke.add(user);
        await this.deliver(user, [{ msgtype: 'text', text: { content: text('message_failed') } }], `${msgid}:failed`);
      }
      await this.o.db.query(
        `WITH s AS (INSERT INTO wecom_seen (msgid) VALUES ($1) ON CONFLICT DO NOTHING)
         UPDATE wecom_attempts SET gave_up_at = $2 WHERE msgid = $1`,
        [msgid, this.now().toISOString()],
      );
      this.log.error({ msgid, tries: this.c.maxAttempts }, 'wecom message given up');
      return true;
    } catch (e) {
      this.log.error({ msgid, err: e }, 'wecom message failure not recorded');
      return false;
    }
  }

  /** Handles one message; throws when it could not (it is then tried again). */
  private async process(m: Record<string, unknown>, msgid: string, spoke: Set<string>): Promise<void> {
    const { db, engine } = this.o;
    if (m.msgtype === 'event') {
      const e = (m.event ?? {}) as Record<string, string | number | undefined>;
      const user = storable(String(e.external_userid ?? ''));
      if (e.event_type === 'enter_session' && e.welcome_code) {
        // The welcome is a turn like any other: recorded as handled with its replies, then sent once.
        const code = e.welcome_code;
        const before = await handledMessage(db, CHANNEL, msgid);
        if (before?.delivered) return;
        const replies = before ? before.replies : (await engine.handle({ channel: CHANNEL, userId: user, kind: 'event', event: 'enter_session', messageId: msgid })).replies;
        const [first] = toWecomMessages(replies);
        if (first) await this.send(() => this.o.client.sendMsgOnEvent({ code, msgid: replyMsgId(msgid, 0), ...first }), user);
        await markDelivered(db, CHANNEL, msgid);
        return;
      }
      if (e.event_type === 'session_status_change') {
        // 1 taken by a servicer, 2 transferred, 3 ended, 4 re-entered.
        const change = Number(e.change_type);
        if (change === 1 || change === 2) await engine.setHandedOver(CHANNEL, user, true);
        if (change === 3 || change === 4) await engine.setHandedOver(CHANNEL, user, false);
      } else if (e.event_type === 'msg_send_fail') {
        // Recorded in the write that marks the event seen: once.
        await this.recordFailure(user, storable(String(e.fail_msgid ?? '')), `msg_send_fail ${storable(String(e.fail_type ?? ''))}`, msgid);
        return;
      }
      await db.query('INSERT INTO wecom_seen (msgid) VALUES ($1) ON CONFLICT DO NOTHING', [msgid]);
      return;
    }

    const user = storable(String(m.external_userid ?? ''));
    const before = await handledMessage(db, CHANNEL, msgid);
    if (before?.delivered) return;
    await this.citizenSpoke(user, !spoke.has(user));
    spoke.add(user);
    if (before) {
      // Handled, but the process stopped before it had sent everything: the stored replies again.
      await this.deliver(user, toWecomMessages(before.replies), msgid);
      await markDelivered(db, CHANNEL, msgid);
      return;
    }
    const inbound = this.toInbound(user, m, msgid);
    if (inbound.kind === 'text' && inbound.text?.trim() === MORE && (await this.sendPending(user, msgid))) return;
    const r = await engine.handle(inbound, 4000);
    if (r.duplicate?.delivered) return;
    await this.deliver(user, toWecomMessages(r.replies), msgid);
    for (const e of r.effects) {
      if (e.type !== 'handoff_requested' || !e.queued) continue;
      // Straight to a named servicer in WeCom's own app (state 3); otherwise the session stays
      // with 小安's API (state 1) and the agent answers from the console's inbox through send_msg.
      const servicer = this.o.servicerUserId;
      if (servicer) {
        await this.send(() => this.o.client.transServiceState({ open_kfid: this.o.openKfId, external_userid: user, service_state: 3, servicer_userid: servicer }), user);
      }
      if (this.o.staffAlert) {
        const summary = [`小安转人工：${e.summary.item ? e.summary.item.name : '未确定事项'}`, ...e.summary.lastQuestions.map((q) => `· ${q}`)].join('\n');
        await this.o.client.sendAppMessage({ touser: this.o.staffAlert.touser, agentid: this.o.staffAlert.agentId, msgtype: 'text', text: { content: summary } }).catch((err: Error) =>
          this.recordFailure(user, '', `staff alert: ${err.message}`),
        );
      }
    }
    await markDelivered(db, CHANNEL, msgid);
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

  /** What WeCom still allows toward a citizen: messages left in the 48-hour window, and when it closes. */
  async budget(user: string): Promise<{ left: number; windowClosesAt: string | null }> {
    const { rows } = await this.o.db.query<{ last_citizen_at: Date | string; sent: number }>(
      'SELECT last_citizen_at, sent FROM wecom_budget WHERE open_kfid = $1 AND external_userid = $2',
      [this.o.openKfId, user],
    );
    const b = rows[0];
    if (!b) return { left: 0, windowClosesAt: null };
    const closes = new Date(b.last_citizen_at).getTime() + WINDOW_MS;
    return { left: closes > this.now().getTime() ? Math.max(0, BUDGET - b.sent) : 0, windowClosesAt: new Date(closes).toISOString() };
  }

  /** What the citizen sent, as the engine takes it (unstorable characters dropped, never refused for them). */
  private toInbound(user: string, m: Record<string, unknown>, messageId: string): Inbound {
    const base = { channel: CHANNEL, userId: user, messageId };
    // A message left with nothing to read is answered like opening the chat (the welcome menu).
    const nothing: Inbound = { ...base, kind: 'event', event: 'empty_message' };
    if (m.msgtype === 'text') {
      const t = (m.text ?? {}) as { content?: unknown; menu_id?: unknown };
      const menuId = typeof t.menu_id === 'string' ? storable(t.menu_id) : '';
      if (menuId && !menuId.startsWith('label:') && menuId.length <= 200) return { ...base, kind: 'menu', menuId };
      const content = clean(String(t.content ?? ''));
      return content.trim() ? { ...base, kind: 'text', text: content } : nothing;
    }
    if (m.msgtype === 'location') {
      const l = (m.location ?? {}) as { latitude?: unknown; longitude?: unknown; name?: unknown };
      const lat = Number(l.latitude);
      const lng = Number(l.longitude);
      if (!Number.isFinite(lat) || !Number.isFinite(lng)) return nothing;
      const label = typeof l.name === 'string' ? clean(l.name).slice(0, 200) : undefined;
      return { ...base, kind: 'location', location: { lat, lng, label } };
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
   * @param key the inbound msgid answered: the sent msgids derive from it (a resend is no new message)
   * @param seen marks the inbound msgid done in the write that records the budget ("继续")
   */
  private async deliver(user: string, messages: WecomMessage[], key?: string, seen?: string): Promise<void> {
    const { rows } = await this.o.db.query<{ sent: number; last_citizen_at: Date | string }>(
      'SELECT sent, last_citizen_at FROM wecom_budget WHERE open_kfid = $1 AND external_userid = $2',
      [this.o.openKfId, user],
    );
    const b = rows[0];
    const open = b && this.now().getTime() - new Date(b.last_citizen_at).getTime() < WINDOW_MS;
    const left = open ? BUDGET - b.sent : 0;
    let now = messages;
    let later: WecomMessage[] = [];
    const ids = messages.map((_, i) => (key ? replyMsgId(key, i) : randomBytes(12).toString('hex')));
    if (messages.length > left) {
      now = messages.slice(0, Math.max(0, left - 1));
      later = messages.slice(now.length);
      if (left > 0) {
        now.push({ msgtype: 'text', text: { content: MORE_HINT } });
        ids[now.length - 1] = key ? replyMsgId(key, 'more') : randomBytes(12).toString('hex');
      }
    }
    let sent = 0;
    for (const [i, m] of now.entries()) {
      const msgid = ids[i]!;
      if (await this.send(() => this.o.client.sendMsg({ touser: user, open_kfid: this.o.openKfId, msgid, ...m }), user)) sent++;
      else break;
    }
    await this.o.db.query(
      `WITH s AS (INSERT INTO wecom_seen (msgid) SELECT $5::text WHERE $5::text IS NOT NULL ON CONFLICT DO NOTHING)
       UPDATE wecom_budget SET sent = sent + $3, pending = $4 WHERE open_kfid = $1 AND external_userid = $2`,
      [this.o.openKfId, user, sent, JSON.stringify(later), seen ?? null],
    );
  }

  /** "继续": sends what the budget held back. False when nothing was waiting. */
  private async sendPending(user: string, msgid: string): Promise<boolean> {
    const { rows } = await this.o.db.query<{ pending: WecomMessage[] }>('SELECT pending FROM wecom_budget WHERE open_kfid = $1 AND external_userid = $2', [
      this.o.openKfId,
      user,
    ]);
    const pending = rows[0]?.pending ?? [];
    if (!pending.length) return false;
    await this.deliver(user, pending, msgid, msgid);
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

  /** @param seen an event msgid marked done in the same write */
  private async recordFailure(user: string, msgid: string, reason: string, seen?: string): Promise<void> {
    await this.o.db.query(
      `WITH s AS (INSERT INTO wecom_seen (msgid) SELECT $4::text WHERE $4::text IS NOT NULL ON CONFLICT DO NOTHING)
       INSERT INTO wecom_send_failures (external_userid, msgid, reason) VALUES ($1, $2, $3)`,
      [user, msgid, reason, seen ?? null],
    );
  }
}
