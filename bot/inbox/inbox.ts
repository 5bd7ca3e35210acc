/**
 * 人工会话: the hand-over queue as online-service staff (网办中心) work it. A chat handed over
 * waits for an agent; one accepts it (it is theirs, others see who has it), reads the whole
 * transcript, replies, sends a guide card, keeps private notes, transfers it to a colleague,
 * opens a case with the details filled in, and releases it back to 小安. A chat nobody takes
 * within HANDOFF_WAIT_MINUTES is handed back to the bot and the citizen is offered 留言 — never
 * left in silence; an agent may still take it up for a day (a new 转人工 replaces it). Every change is an event pushed to the
 * consoles (InboxHub) and recorded in handoff_events.
 */
import { randomUUID } from 'node:crypto';
import type { DialogEngine } from '../engine.ts';
import type { Reply } from '../messages.ts';
import { maskPersonalNumbers } from '../privacy.ts';
import { fallbackLog, type Logger } from '../log.ts';
import type { Database, Queryable } from '../store/database.ts';
import { recentMessages } from '../store/conversations.ts';
import { composeAnswer } from '../../handlers/policy-answer.ts';
import { caseCreatedText } from '../../handlers/case-dialog.ts';
import { text } from '../../handlers/texts.ts';
import { CASE_TYPES, type CaseType } from '../../integrations/case-platform/types.ts';
import type { KnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import type { InboxHub } from './hub.ts';
import type { HotlineAssistant, Suggestion } from '../assist/assistant.ts';

export type HandoffStatus = 'open' | 'accepted' | 'missed' | 'released' | 'closed';

export interface InboxItem {
  id: number;
  channel: string;
  userId: string;
  status: HandoffStatus;
  summary: { intent?: string; item?: { id: string; name: string } | null; lastQuestions?: string[]; situation?: string; lastAnswer?: string };
  assignedTo: string | null;
  createdAt: string;
  acceptedAt: string | null;
  missedAt: string | null;
  /** Seconds since the chat was handed over (for open and missed ones: how long the citizen waits). */
  waitingSeconds: number;
}

export interface InboxEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  text: string | null;
  details: Record<string, unknown>;
}

export class InboxError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409,
  ) {
    super(message);
  }
}

export interface InboxOptions {
  waitMinutes: number;
  now?: () => Date;
  /** Whether an account may take chats (an enabled agent). */
  isAgent: (username: string) => Promise<boolean>;
  /** The hotline assistant, for suggested replies to the citizen's latest words. */
  assistant?: HotlineAssistant;
  /** What the citizen's channel still allows (WeCom: the 48-hour window and 5-message budget). */
  budgetOf?: (channel: string, userId: string) => Promise<unknown>;
  log?: Logger;
}

interface Row {
  id: string;
  channel: string;
  user_id: string;
  status: HandoffStatus;
  summary: InboxItem['summary'];
  assigned_to: string | null;
  created_at: Date | string;
  accepted_at: Date | string | null;
  missed_at: Date | string | null;
}

const SELECT = `SELECT h.id, c.channel, c.user_id, h.status, h.summary, h.assigned_to, h.created_at, h.accepted_at, h.missed_at
  FROM handoffs h JOIN conversations c ON c.id = h.conversation_id`;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const MAX_TEXT = 2000;
const MISSED_KEPT_MS = 86_400_000;

export class Inbox {
  constructor(
    private readonly db: Database,
    private readonly engine: DialogEngine,
    private readonly kb: KnowledgeBase,
    readonly hub: InboxHub,
    private readonly o: InboxOptions,
  ) {}

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  private get log(): Logger {
    return this.o.log ?? fallbackLog();
  }

  /** Pushes the engine's hand-overs and the messages of held chats to the consoles. */
  listen(): () => void {
    const onHandoff = ({ handoffId }: { handoffId: number }) =>
      void this.load(this.db, handoffId).then((item) => this.changed(item, 'created'), (e: Error) => this.log.error({ err: e }, 'inbox update failed'));
    const onMessage = (m: { channel: string; userId: string; text: string | null; at: string }) =>
      void this.db
        .query<{ id: string }>(
          `SELECT h.id FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
           WHERE c.channel = $1 AND c.user_id = $2 AND h.kind = 'handoff' AND h.status IN ('open', 'accepted') ORDER BY h.id DESC LIMIT 1`,
          [m.channel, m.userId],
        )
        .then(
          ({ rows }) => this.hub.publish({ type: 'message', handoffId: rows[0] ? Number(rows[0].id) : null, ...m, text: m.text === null ? null : maskPersonalNumbers(m.text) }),
          (e: Error) => this.log.error({ err: e }, 'inbox update failed'),
        );
    this.engine.events.on('handoff', onHandoff);
    this.engine.events.on('held-message', onMessage);
    return () => {
      this.engine.events.off('handoff', onHandoff);
      this.engine.events.off('held-message', onMessage);
    };
  }

  private item(r: Row): InboxItem {
    return {
      id: Number(r.id),
      channel: r.channel,
      userId: r.user_id,
      status: r.status,
      summary: r.summary,
      assignedTo: r.assigned_to,
      createdAt: iso(r.created_at)!,
      acceptedAt: iso(r.accepted_at),
      missedAt: iso(r.missed_at),
      waitingSeconds: Math.max(0, Math.round((this.now().getTime() - new Date(r.created_at).getTime()) / 1000)),
    };
  }

  /** Chats waiting, taken, or missed (still to take up); oldest first. */
  async list(): Promise<InboxItem[]> {
    // A missed chat stays a day to be taken up; after that it is history.
    const since = new Date(this.now().getTime() - MISSED_KEPT_MS).toISOString();
    const { rows } = await this.db.query<Row>(
      `${SELECT} WHERE h.kind = 'handoff' AND (h.status IN ('open', 'accepted') OR (h.status = 'missed' AND h.missed_at >= $1)) ORDER BY h.created_at, h.id`,
      [since],
    );
    return rows.map((r) => this.item(r));
  }

  private async load(q: Queryable, id: number, lock = false): Promise<InboxItem> {
    const { rows } = await q.query<Row>(`${SELECT} WHERE h.id = $1 AND h.kind = 'handoff'${lock ? ' FOR UPDATE OF h' : ''}`, [id]);
    if (!rows[0]) throw new InboxError('没有这个会话', 404);
    return this.item(rows[0]);
  }

  /** One chat with its whole transcript (masked as stored) and its events, notes included. */
  async detail(id: number): Promise<InboxItem & { transcript: Awaited<ReturnType<typeof recentMessages>>; events: InboxEvent[]; budget: unknown }> {
    const item = await this.load(this.db, id);
    const transcript = await recentMessages(this.db, item.channel, item.userId, 200);
    const { rows } = await this.db.query<{ id: string; at: Date | string; actor: string; action: string; text: string | null; details: Record<string, unknown> }>(
      'SELECT id, at, actor, action, text, details FROM handoff_events WHERE handoff_id = $1 ORDER BY id',
      [id],
    );
    return {
      ...item,
      transcript,
      events: rows.map((r) => ({ id: Number(r.id), at: iso(r.at)!, actor: r.actor, action: r.action, text: r.text, details: r.details })),
      budget: (await this.o.budgetOf?.(item.channel, item.userId)) ?? null,
    };
  }

  private async event(q: Queryable, id: number, actor: string, action: string, text?: string | null, details: Record<string, unknown> = {}): Promise<InboxEvent> {
    const { rows } = await q.query<{ id: string; at: Date | string; text: string | null }>(
      'INSERT INTO handoff_events (handoff_id, at, actor, action, text, details) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, at, text',
      [id, this.now().toISOString(), actor, action, text == null ? null : maskPersonalNumbers(text), JSON.stringify(details)],
    );
    const r = rows[0]!;
    return { id: Number(r.id), at: iso(r.at)!, actor, action, text: r.text, details };
  }

  private changed(item: InboxItem, action: string): InboxItem {
    this.hub.publish({ type: 'handoff', action, item });
    return item;
  }

  /** The agent's chat: only its holder works on it. */
  private async held(id: number, agent: string): Promise<InboxItem> {
    const item = await this.load(this.db, id);
    if (item.status !== 'accepted') throw new InboxError(item.status === 'open' || item.status === 'missed' ? '请先接入这个会话' : '这个会话已结束', 409);
    if (item.assignedTo !== agent) throw new InboxError(`这个会话由 ${item.assignedTo} 接待`, 403);
    return item;
  }

  /**
   * Takes a chat. Exactly one of two agents accepting at once gets it; a missed chat taken up
   * is handed over again. The citizen is told a person is here.
   */
  async accept(id: number, agent: string): Promise<InboxItem> {
    const taken = await this.db.transaction(async (tx) => {
      const item = await this.load(tx, id, true);
      if (item.status === 'accepted') throw new InboxError(item.assignedTo === agent ? '您已接入这个会话' : `已由 ${item.assignedTo} 接入`, 409);
      if (item.status === 'released' || item.status === 'closed') throw new InboxError('这个会话已结束', 409);
      const at = this.now().toISOString();
      await tx.query(`UPDATE handoffs SET status = 'accepted', assigned_to = $2, accepted_at = $3, updated_at = $3 WHERE id = $1`, [id, agent, at]);
      await this.event(tx, id, agent, 'accepted', null, item.status === 'missed' ? { after: 'missed' } : {});
      return { ...item, status: 'accepted' as const, assignedTo: agent, acceptedAt: at };
    });
    await this.engine.say(taken.channel, taken.userId, [{ type: 'text', text: text('handoff_accepted') }], { handedOver: true });
    return this.changed(taken, 'accepted');
  }

  private async tell(item: InboxItem, replies: Reply[], actor: string, action: 'reply' | 'card', details: Record<string, unknown>): Promise<{ delivered: boolean }> {
    const delivered = (await this.engine.say(item.channel, item.userId, replies, { handedOver: true, by: actor })) > 0;
    const shown = replies.map((r) => (r.type === 'text' ? r.text : r.type === 'card' ? `${r.title}\n${r.body}` : r.type === 'menu' ? r.head : r.title)).join('\n');
    await this.event(this.db, item.id, actor, action, shown, { ...details, delivered });
    this.changed(item, action);
    return { delivered };
  }

  /** A reply written by the agent, to the citizen at once (recorded in the transcript either way). */
  async reply(id: number, agent: string, body: string): Promise<{ delivered: boolean }> {
    const t = body.trim();
    if (!t) throw new InboxError('回复内容不能为空', 400);
    if ([...t].length > MAX_TEXT) throw new InboxError(`回复内容请控制在 ${MAX_TEXT} 字以内`, 400);
    const item = await this.held(id, agent);
    return this.tell(item, [{ type: 'text', text: t }], agent, 'reply', {});
  }

  /** A guide card (the official guide's overview, with its source) for the citizen. */
  async card(id: number, agent: string, itemId: string): Promise<{ delivered: boolean }> {
    const guide = this.kb.index.guides.get(itemId);
    if (!guide) throw new InboxError(`没有事项 ${itemId}`, 400);
    const item = await this.held(id, agent);
    const answer = composeAnswer(guide, { aspect: 'general', rules: this.kb.text.lexicon.aspects, situation: null });
    const card: Reply = {
      type: 'card',
      title: guide.name,
      body: answer.text,
      sources: answer.sources.map((s) => ({ itemId: s.itemId, itemName: guide.name, section: s.section })),
    };
    return this.tell(item, [card], agent, 'card', { itemId });
  }

  /**
   * Suggested replies from the assistant for the citizen's latest message, read in the
   * context of this chat (as a hotline call is); a newer message gives new suggestions.
   */
  async suggestions(id: number, agent: string): Promise<{ suggestions: Suggestion[]; emergency: unknown; basedOn: string | null }> {
    const item = await this.load(this.db, id);
    const { rows } = await this.db.query<{ text: string }>(
      `SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.channel = $1 AND c.user_id = $2 AND m.direction = 'in' AND m.kind = 'text' AND m.text IS NOT NULL ORDER BY m.id DESC LIMIT 1`,
      [item.channel, item.userId],
    );
    const last = rows[0]?.text?.trim();
    if (!last || !this.o.assistant || last === '转人工') return { suggestions: [], emergency: null, basedOn: last ?? null };
    const r = await this.o.assistant.assist({ text: last, callId: `inbox-${id}`, actor: agent });
    return { suggestions: r.suggestions, emergency: r.emergency, basedOn: last };
  }

  /** A private note: for colleagues, never shown to the citizen. */
  async note(id: number, agent: string, body: string): Promise<InboxEvent> {
    const t = body.trim();
    if (!t) throw new InboxError('备注不能为空', 400);
    if ([...t].length > MAX_TEXT) throw new InboxError(`备注请控制在 ${MAX_TEXT} 字以内`, 400);
    const item = await this.load(this.db, id);
    if (item.status === 'released' || item.status === 'closed') throw new InboxError('这个会话已结束', 409);
    const note = await this.event(this.db, id, agent, 'note', t);
    this.changed(item, 'note');
    return note;
  }

  /** Hands the chat to a colleague (an enabled agent); the citizen notices nothing. */
  async transfer(id: number, agent: string, to: string): Promise<InboxItem> {
    if (to === agent) throw new InboxError('不能转给自己', 400);
    if (!(await this.o.isAgent(to))) throw new InboxError(`${to} 不是可接待会话的工作人员`, 400);
    const moved = await this.db.transaction(async (tx) => {
      const item = await this.load(tx, id, true);
      if (item.status !== 'accepted' || item.assignedTo !== agent) throw new InboxError('只能转交您正在接待的会话', 409);
      await tx.query('UPDATE handoffs SET assigned_to = $2, updated_at = now() WHERE id = $1', [id, to]);
      await this.event(tx, id, agent, 'transfer', null, { to });
      return { ...item, assignedTo: to };
    });
    return this.changed(moved, 'transfer');
  }

  /** Opens a case for the citizen with what the agent filled in; the citizen is told its number. */
  async openCase(
    id: number,
    agent: string,
    f: { type: CaseType; description: string; place?: string; mobile: string; name?: string; consentToContact: boolean; key?: string },
  ): Promise<{ caseId?: string; reference?: string; told: string }> {
    if (!(CASE_TYPES as readonly string[]).includes(f.type)) throw new InboxError(`type 须是 ${CASE_TYPES.join('、')} 之一`, 400);
    const description = f.description.trim();
    if ([...description].length < 10) throw new InboxError('诉求内容至少 10 个字', 400);
    if (!/^1[3-9]\d{9}$/.test(f.mobile)) throw new InboxError('请填写正确的手机号码', 400);
    const item = await this.held(id, agent);
    const key = f.key && /^[\w-]{8,64}$/.test(f.key) ? f.key : randomUUID();
    const result = await this.engine.cases.submit(
      {
        channel: item.channel,
        userId: item.userId,
        newCase: {
          type: f.type,
          description,
          ...(f.place?.trim() ? { place: f.place.trim() } : {}),
          category: this.engine.caseRouter.route(description, f.place).category,
          citizen: { id: `${item.channel}:${item.userId}`, mobile: f.mobile, ...(f.name?.trim() ? { name: f.name.trim() } : {}), consentToContact: f.consentToContact },
          channel: item.channel,
        },
      },
      `case:handoff:${key}`,
    );
    const told =
      result.kind === 'submitted' ? caseCreatedText(result.case, this.engine.timeZone) : text(result.kind === 'invalid' ? 'case_invalid' : 'case_provisional', { ref: result.reference });
    await this.engine.say(item.channel, item.userId, [{ type: 'text', text: told }], { handedOver: true, by: agent });
    const caseId = result.kind === 'submitted' ? result.case.id : undefined;
    await this.event(this.db, id, agent, 'case', told, caseId ? { caseId } : { reference: (result as { reference: string }).reference });
    this.changed(item, 'case');
    return { ...(caseId ? { caseId } : { reference: (result as { reference: string }).reference }), told };
  }

  /** Back to 小安: the bot speaks again and the citizen is told so. */
  async release(id: number, agent: string, o: { force?: boolean } = {}): Promise<InboxItem> {
    const released = await this.db.transaction(async (tx) => {
      const item = await this.load(tx, id, true);
      if (item.status === 'released' || item.status === 'closed') throw new InboxError('这个会话已结束', 409);
      if (!o.force && item.status === 'accepted' && item.assignedTo !== agent) throw new InboxError(`这个会话由 ${item.assignedTo} 接待`, 403);
      await tx.query(`UPDATE handoffs SET status = 'released', released_at = now(), updated_at = now() WHERE id = $1`, [id]);
      await this.event(tx, id, agent, 'released');
      return { ...item, status: 'released' as const };
    });
    await this.engine.say(released.channel, released.userId, [{ type: 'text', text: text('handoff_released') }], { handedOver: false });
    return this.changed(released, 'released');
  }

  /**
   * Chats nobody took within the wait: handed back to 小安, the citizen told in one honest
   * sentence and offered 留言. Run on a timer; returns those it handled.
   */
  async expireWaiting(): Promise<InboxItem[]> {
    const before = new Date(this.now().getTime() - this.o.waitMinutes * 60_000).toISOString();
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE handoffs SET status = 'missed', missed_at = $2, updated_at = $2
       WHERE kind = 'handoff' AND status = 'open' AND created_at < $1 RETURNING id`,
      [before, this.now().toISOString()],
    );
    const missed: InboxItem[] = [];
    for (const r of rows) {
      const item = await this.load(this.db, Number(r.id));
      await this.event(this.db, item.id, 'system', 'missed');
      await this.engine.say(item.channel, item.userId, [missedMenu()], { handedOver: false });
      missed.push(this.changed(item, 'missed'));
    }
    return missed;
  }
}

/** Told when nobody could take the chat in time: what happens now, and 留言. */
export function missedMenu(): Reply {
  return {
    type: 'menu',
    head: text('handoff_missed'),
    items: [
      { id: 'leave_message', label: text('handoff_options.leave_message') },
      { id: 'continue', label: text('handoff_options.continue') },
    ],
  };
}
