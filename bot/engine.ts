/**
 * The dialog engine behind every channel: one inbound message in, a TurnResult out.
 * It serialises each citizen's messages, loads and saves the conversation, runs the turn
 * through botkit, performs the effects (hand-over queue, messages left), tells what the
 * citizen is owed (notices and surveys kept in tables), logs every message with personal
 * numbers masked, and fits texts to the channel.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Asker } from './ask.ts';
import { BotkitEngine } from './botkit-engine.ts';
import { expire, forgetUnknownItems, stateName } from './conversation-state.ts';
import type { SerialLocks } from './replicas/conversation-locks.ts';
import type { Bus } from './replicas/bus.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { lastMenuItems, replyText, type Inbound, type Reply, type TurnMeta, type TurnResult } from './messages.ts';
import type { Database, Queryable } from './store/database.ts';
import {
  beginTurn,
  createHandoff,
  endTurn,
  loadConversation,
  handledMessage,
  oweNotice,
  purgeExpiredDrafts,
  type ConversationRow,
  type MessageRecord,
  type Told,
} from './store/conversations.ts';
import { surveyReplies } from '../handlers/satisfaction.ts';
import type { Awaiting } from './conversation-state.ts';
import { questionRow } from './store/question-log.ts';
import { splitText } from './text-split.ts';
import { runTurn } from './dialog.ts';
import type { DialogDeps, HandlerContext, HandlerOutput } from '../handlers/handler.ts';
import type { KnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import { loadOffices, type Office } from '../knowledge-base/offices.ts';
import { CasePlatformClient } from '../integrations/case-platform/client.ts';
import { CaseDesk } from '../integrations/case-platform/desk/desk.ts';
import { loadRouting, type CaseRouter } from '../integrations/case-platform/desk/router.ts';
import { deskPlatform, externalPlatform } from '../integrations/case-platform/platform.ts';
import { lateSubmittedText } from '../handlers/case-dialog.ts';
import { CaseService } from './cases/service.ts';
import { enqueue } from './store/outbox.ts';
import type { Config } from './config.ts';
import { wellFormed } from './storable-text.ts';
import { Rephraser } from '../handlers/rephrase.ts';
import { createChatClient, type ChatClient } from '../integrations/llm/index.ts';
import { inLanguage, isEnglish, text } from '../handlers/texts.ts';
import { isOpen } from './service-hours.ts';
import { fallbackLog, type Logger } from './log.ts';
import { llmAnswers, turnDuration } from './metrics.ts';
import { maskPersonalNumbers } from './privacy.ts';

export const MAX_MESSAGE_CHARS = 2000;

export class InboundError extends Error {}

export interface EngineOptions {
  kb: KnowledgeBase;
  db: Database;
  offices: Office[];
  handoffMode: 'none' | 'queue';
  serviceHours: string;
  /** The bureau's time zone (TZ), for the times told to citizens; Asia/Shanghai when not given. */
  timeZone?: string;
  /** Whether a person can take a hand-over now (service hours); always true when not given. */
  serviceOpen?: (at: Date) => boolean;
  contextTtlMinutes: number;
  cases: CaseService;
  caseRouter: CaseRouter;
  /** The built-in desk, when no external platform is configured (for the staff API). */
  desk?: CaseDesk | null;
  /** Pushes replies to a citizen's open chats; returns how many received them. */
  deliver?: (channel: string, userId: string, replies: Reply[]) => number | Promise<number>;
  now?: () => Date;
  /** Where each turn is logged (one line: turn id, channel, intent, item, latency). */
  log?: Logger;
  /** Across replicas, one turn per conversation at a time (in-process ordering only when absent). */
  locks?: SerialLocks;
  /** A chat model that may rephrase policy answers behind the grounding guard (LLM_BASE_URL). */
  llm?: ChatClient | null;
}

interface TurnState {
  conversation: ConversationRow;
  output?: HandlerOutput;
}

/** What the engine tells the staff side: a chat handed over, a citizen writing in a held chat. */
export interface EngineEvents {
  handoff: [{ handoffId: number; channel: string; userId: string }];
  'held-message': [{ channel: string; userId: string; text: string | null; at: string }];
}

export class DialogEngine {
  readonly events = new EventEmitter<EngineEvents>();
  private readonly queue = new KeyedQueue();
  private readonly botkit: BotkitEngine;
  private readonly deps: DialogDeps;

  /** The bureau's time zone, for times told to citizens outside a turn. */
  get timeZone(): string {
    return this.deps.timeZone;
  }
  /** The turn botkit is running for each conversation key (one at a time per key). */
  private readonly turns = new Map<string, TurnState>();

  constructor(private readonly o: EngineOptions) {
    this.deps = {
      kb: o.kb,
      asker: new Asker(o.kb),
      offices: o.offices,
      handoffMode: o.handoffMode,
      serviceHours: o.serviceHours,
      timeZone: o.timeZone ?? 'Asia/Shanghai',
      serviceOpen: () => o.serviceOpen?.(this.now()) ?? true,
      cases: o.cases,
      caseRouter: o.caseRouter,
      // The guard's verdict on every answer offered to the model, one log line each.
      ...(o.llm
        ? {
            rephraser: new Rephraser(o.llm, o.kb, (verdict) => {
              llmAnswers.inc({ used: verdict.used, reason: verdict.reason });
              o.log?.info({ llm: verdict }, 'llm answer');
            }),
          }
        : {}),
    };
    this.botkit = new BotkitEngine((inbound) => this.decide(inbound));
  }

  /** Handles one message; texts longer than maxTextChars are split at sentence boundaries. */
  handle(inbound: Inbound, maxTextChars = 1000): Promise<TurnResult> {
    validate(inbound);
    return this.serially(keyOf(inbound), (db) => this.observed(inbound, () => this.turn(inbound, maxTextChars, db)));
  }

  /**
   * A turn timed, counted and logged in one line. The citizen's words only at debug, and
   * masked (the log's own masking is the second guard); the user id never.
   */
  private async observed(inbound: Inbound, run: () => Promise<TurnResult>): Promise<TurnResult> {
    const log = this.o.log ?? fallbackLog();
    const line = {
      turnId: randomUUID(),
      channel: inbound.channel,
      kind: inbound.kind,
      ...(inbound.text && log.isLevelEnabled('debug') ? { text: maskPersonalNumbers(inbound.text).slice(0, 200) } : {}),
    };
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const r = await run();
      const s = seconds();
      turnDuration.observe({ intent: r.intent, channel: inbound.channel }, s);
      log.info({ ...line, intent: r.intent, item: r.item?.id ?? null, ...(r.duplicate ? { duplicate: true } : {}), ms: Math.round(s * 1000) }, 'turn');
      return r;
    } catch (e) {
      const s = seconds();
      turnDuration.observe({ intent: 'error', channel: inbound.channel }, s);
      log.error({ ...line, err: e, ms: Math.round(s * 1000) }, 'turn failed');
      throw e;
    }
  }

  /**
   * Tells a citizen something outside a turn (a case result with its survey), in that
   * citizen's queue. Returns false when no chat of theirs is open to receive it, or (with
   * `awaiting`) when they are in the middle of a case draft, which a survey must not replace.
   * With `keep`, what was not delivered is kept in pending_notices and told at their next
   * message (a survey needs nothing kept: its row stays pending and is asked then).
   */
  notify(channel: string, userId: string, replies: Reply[], o: { awaiting?: Awaiting; keep?: boolean } = {}): Promise<boolean> {
    return this.serially(`${channel}\u0000${userId}`, async (db) => {
      const conversation = await loadConversation(db, channel, userId);
      conversation.state = expire(conversation.state, this.now(), this.o.contextTtlMinutes);
      const drafting = o.awaiting !== undefined && conversation.state.awaiting?.kind === 'case';
      const delivered = !conversation.handedOver && !drafting && ((await this.o.deliver?.(channel, userId, replies)) ?? 0) > 0;
      if (!delivered) {
        if (o.keep) await oweNotice(db, channel, userId, replies, o.awaiting);
        return false;
      }
      if (o.awaiting) conversation.state.awaiting = o.awaiting;
      conversation.state.menu = lastMenuItems(replies) ?? conversation.state.menu;
      await endTurn(db, conversation, outgoing(replies, { payload: false }));
      return true;
    });
  }

  /**
   * Says something to a citizen from a person (an agent's reply, "工作人员已接入"), in their
   * queue: recorded in the transcript and delivered to their open chats even while a person
   * holds the chat. `handedOver` changes who holds it in the same write. Returns how many
   * open chats received it (0: it is in the transcript, shown when they open the chat).
   */
  say(channel: string, userId: string, replies: Reply[], o: { handedOver?: boolean; by?: string } = {}): Promise<number> {
    return this.serially(`${channel}\u0000${userId}`, async (db) => {
      const conversation = await loadConversation(db, channel, userId);
      if (o.handedOver !== undefined) conversation.handedOver = o.handedOver;
      conversation.state.menu = lastMenuItems(replies) ?? conversation.state.menu;
      await endTurn(db, conversation, outgoing(replies, { payload: true, by: o.by }));
      return (await this.o.deliver?.(channel, userId, replies)) ?? 0;
    });
  }

  /**
   * Removes unfinished case drafts (mobile, name) from conversations idle longer than the
   * context TTL: they are expired already. For a periodic job; returns how many were purged.
   */
  purgeExpiredDrafts(): Promise<number> {
    return purgeExpiredDrafts(this.o.db, new Date(this.now().getTime() - this.o.contextTtlMinutes * 60_000));
  }

  /** A channel says a human took the chat (true) or it went back to the bot (false). */
  setHandedOver(channel: string, userId: string, handedOver: boolean): Promise<void> {
    return this.serially(`${channel}\u0000${userId}`, async (db) => {
      const conversation = await loadConversation(db, channel, userId);
      conversation.handedOver = handedOver;
      await endTurn(db, conversation, []);
    });
  }

  get cases(): CaseService {
    return this.o.cases;
  }

  get caseRouter(): CaseRouter {
    return this.o.caseRouter;
  }

  get desk(): CaseDesk | null {
    return this.o.desk ?? null;
  }

  /** One at a time per conversation: in arrival order here, and under its lock across replicas. */
  private serially<T>(key: string, task: (db: Queryable) => Promise<T>): Promise<T> {
    const locks = this.o.locks;
    return this.queue.run(key, locks ? () => locks.hold(`conversation:${key}`, (held) => task(held ?? this.o.db)) : () => task(this.o.db));
  }

  /** Waits for turns in flight (clean shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  /** `db`: where the turn's own conversation rows are read and written (its lock's connection across replicas). */
  private async turn(inbound: Inbound, maxTextChars: number, db: Queryable): Promise<TurnResult> {
    const now = this.now();
    const before = inbound.messageId ? await handledMessage(db, inbound.channel, inbound.messageId) : null;
    if (before) {
      const meta: TurnMeta = { intent: 'silent', item: null, candidates: [], aspect: 'general', sources: [] };
      return { ...meta, replies: before.replies, effects: [], duplicate: { delivered: before.delivered }, conversation: { state: 'unknown', handedOver: false } };
    }
    // What the citizen is owed comes with the conversation, in the query that opens the turn.
    const { owed, ...conversation } = await beginTurn(db, inbound.channel, inbound.userId, {
      direction: 'in',
      kind: inbound.kind,
      text: inbound.text ?? inbound.menuId,
      payload: inbound.location ?? (inbound.event ? { event: inbound.event } : undefined),
    });
    conversation.state = forgetUnknownItems(expire(conversation.state, now, this.o.contextTtlMinutes), (id) => this.o.kb.index.guides.has(id));

    const key = keyOf(inbound);
    const turn: TurnState = { conversation };
    this.turns.set(key, turn);
    let said: Reply[];
    try {
      said = await this.botkit.turn(inbound);
    } finally {
      this.turns.delete(key);
    }
    const out = turn.output ?? { replies: [] };

    // Effects: the hand-over queue.
    const handoffs: number[] = [];
    for (const e of out.effects ?? []) {
      if (e.type === 'handoff_requested' && e.queued) handoffs.push(await createHandoff(db, conversation.id, e.summary));
    }
    const held = conversation.handedOver;
    if (out.handedOver) conversation.handedOver = true;

    // What the citizen is owed is told once, marked in the write that saves this turn. Not
    // while a human has the chat, nor next to an emergency answer: then it waits.
    const told: Told = { notices: [], at: now };
    if (!conversation.handedOver && out.meta?.intent !== 'emergency') {
      // Notices that found no open chat come first, before this turn's answer.
      const plain = owed.notices.filter((n) => !n.awaiting);
      said.unshift(...plain.flatMap((n) => n.replies));
      told.notices = plain.map((n) => n.id);
      // One that asks the citizen something comes after their own answer, one a turn, and
      // not in the middle of another question or draft: their next message answers it.
      const question = owed.notices.find((n) => n.awaiting);
      if (question?.awaiting && !conversation.state.awaiting) {
        said.push(...question.replies);
        conversation.state.awaiting = question.awaiting;
        told.notices.push(question.id);
      }
      // A survey that could not reach the citizen earlier is asked now, after their own answer
      // (one a turn, and not in the middle of another question or draft).
      const survey = owed.surveys[0];
      if (survey && !conversation.state.awaiting) {
        const c = await this.o.cases.getCase(survey.caseId);
        said.push(...surveyReplies({ id: survey.caseId, reply: c?.reply }));
        conversation.state.awaiting = { kind: 'rating', surveyId: survey.id, caseId: survey.caseId, round: survey.round, level: survey.level };
        told.survey = survey.id;
      }
    }

    conversation.state.menu = lastMenuItems(said);
    conversation.state.lastAt = now.toISOString();
    const replies = said.flatMap((r): Reply[] => (r.type === 'text' ? splitText(r.text, maxTextChars).map((t) => ({ type: 'text', text: t })) : [r]));
    await endTurn(
      db,
      conversation,
      outgoing(replies, { payload: true }),
      {
        question: out.asked ? questionRow(inbound.channel, out.asked, this.o.kb.index.meta.checksum, this.o.kb.release) : undefined,
        handled: inbound.messageId ? { messageId: inbound.messageId, replies } : undefined,
        told,
      },
    );

    for (const handoffId of handoffs) this.events.emit('handoff', { handoffId, channel: inbound.channel, userId: inbound.userId });
    if (held) this.events.emit('held-message', { channel: inbound.channel, userId: inbound.userId, text: inbound.text ?? inbound.menuId ?? null, at: now.toISOString() });

    const meta: TurnMeta = { intent: 'answer', item: null, candidates: [], aspect: 'general', sources: [], ...out.meta };
    return {
      ...meta,
      replies,
      effects: out.effects ?? [],
      conversation: { state: stateName(conversation.state, conversation.handedOver), handedOver: conversation.handedOver },
    };
  }

  /** Called by botkit inside the turn: the decision itself. */
  private async decide(inbound: Inbound): Promise<Reply[]> {
    const turn = this.turns.get(keyOf(inbound))!;
    const state = turn.conversation.state;
    const ctx: HandlerContext = { inbound, state, deps: this.deps };
    // The citizen's language is that of their last words (a menu pick keeps it).
    const said = inbound.kind === 'text' ? (inbound.text ?? '').trim() : '';
    if (said) {
      if (isEnglish(said, this.deps.kb.text.lexicon.stopwords)) state.lang = 'en';
      else delete state.lang;
    }
    turn.output = await inLanguage(state.lang ?? 'zh', async () => {
      const out = await runTurn(ctx, turn.conversation.handedOver);
      return this.deps.rephraser && out.rephrasable ? this.deps.rephraser.rephrase(out, said) : out;
    });
    return turn.output.replies;
  }
}

/**
 * The engine as configured: offices from the data file, hand-over mode, hours, context
 * TTL, and the case platform (external when configured, else the built-in desk).
 * @param notify tells a citizen something outside a turn (a case number that arrived late)
 */
export function createDialogEngine(
  config: Config,
  kb: KnowledgeBase,
  db: Database,
  deliver: (channel: string, userId: string, replies: Reply[]) => number | Promise<number> = () => 0,
  o: { log?: Logger; locks?: SerialLocks; bus?: Bus | null } = {},
): DialogEngine {
  const caseRouter = loadRouting();
  // The desk's state changes go into the outbox in the same transaction, as signed callbacks.
  const desk = config.casePlatform
    ? null
    : new CaseDesk(db, caseRouter, { onEvent: (event, tx) => enqueue(tx, 'callback', `callback:${event.eventId}`, event).then(() => {}) });
  desk?.changes.relay(o.bus ?? null, 'desk-changes');
  const platform = desk
    ? deskPlatform(desk)
    : externalPlatform(new CasePlatformClient({ baseUrl: config.casePlatform!.baseUrl, apiKey: config.casePlatform!.apiKey }));
  // A case number that arrived late is told now, or (kept in pending_notices) at the citizen's next message.
  let engine: DialogEngine | null = null;
  const cases = new CaseService(
    db,
    platform,
    async (request, c) => {
      await engine?.notify(request.channel, request.userId, [{ type: 'text', text: lateSubmittedText(request.reference ?? '', c, config.timeZone) }], { keep: true });
    },
    {
      // A waiting case the platform refused as invalid: the citizen hears that staff are checking it.
      onInvalid: async (request) => {
        await engine?.notify(request.channel, request.userId, [{ type: 'text', text: text('case_invalid', { ref: request.reference ?? '' }) }], { keep: true });
      },
      log: o.log?.child({ component: 'cases' }),
    },
  );
  engine = new DialogEngine({
    desk,
    kb,
    db,
    offices: loadOffices(config.officesPath),
    handoffMode: config.handoffMode,
    serviceHours: config.serviceHours,
    serviceOpen: (at) => isOpen(config.serviceSchedule, at, config.timeZone),
    timeZone: config.timeZone,
    contextTtlMinutes: config.contextTtlMinutes,
    cases,
    caseRouter,
    deliver,
    locks: o.locks,
    log: o.log?.child({ component: 'dialog' }),
    llm: createChatClient(config.llm),
  });
  return engine;
}

/**
 * Replies as transcript records. With `payload`, non-text replies keep their whole form and
 * a person's words say who wrote them (`by`); notices outside a turn keep the words only.
 */
function outgoing(replies: Reply[], o: { payload: boolean; by?: string }): MessageRecord[] {
  return replies.map((r) => {
    const payload = o.payload ? { ...(r.type === 'text' ? {} : r), ...(o.by ? { by: o.by } : {}) } : {};
    return { direction: 'out', kind: r.type, text: replyText(r), payload: Object.keys(payload).length ? payload : undefined };
  });
}

const keyOf = (i: Inbound) => `${i.channel}\u0000${i.userId}`;

function validate(i: Inbound): void {
  if (!i || typeof i !== 'object') throw new InboundError('message must be an object');
  if (typeof i.userId !== 'string' || !i.userId.trim() || i.userId.length > 128) throw new InboundError('userId is required (at most 128 characters)');
  if (typeof i.channel !== 'string' || !i.channel) throw new InboundError('channel is required');
  for (const v of [i.userId, i.text, i.menuId, i.messageId]) {
    if (typeof v === 'string' && !wellFormed(v)) throw new InboundError('消息含有无效字符 (control characters or broken Unicode)');
  }
  if (i.kind === 'text') {
    if (typeof i.text !== 'string' || !i.text.trim()) throw new InboundError('text must not be empty');
    if (i.text.length > MAX_MESSAGE_CHARS) throw new InboundError(`text is longer than ${MAX_MESSAGE_CHARS} characters`);
  }
  if (i.messageId !== undefined && (typeof i.messageId !== 'string' || !i.messageId || i.messageId.length > 128)) throw new InboundError('messageId must be a short string');
  if (i.kind === 'menu' && (typeof i.menuId !== 'string' || !i.menuId || i.menuId.length > 200)) throw new InboundError('menuId must be a non-empty string');
  if (i.kind === 'location' && (!i.location || !Number.isFinite(i.location.lat) || !Number.isFinite(i.location.lng))) {
    throw new InboundError('location needs numeric lat and lng');
  }
}
