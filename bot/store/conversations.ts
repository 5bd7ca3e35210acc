/** Conversations, their messages and hand-over requests in the store. */
import { maskPersonalNumbers, maskValue } from '../privacy.ts';
import { freshState, type Awaiting, type ConversationState } from '../conversation-state.ts';
import type { HandoffSummary, Reply } from '../messages.ts';
import type { Database, Queryable } from './database.ts';
import type { questionRow } from './question-log.ts';

export interface ConversationRow {
  id: number;
  channel: string;
  userId: string;
  state: ConversationState;
  handedOver: boolean;
}

export async function loadConversation(db: Queryable, channel: string, userId: string): Promise<ConversationRow> {
  const { rows } = await db.query<{ id: string; state: ConversationState; handed_over: boolean }>(
    `INSERT INTO conversations (channel, user_id) VALUES ($1, $2)
     ON CONFLICT (channel, user_id) DO UPDATE SET channel = EXCLUDED.channel
     RETURNING id, state, handed_over`,
    [channel, userId],
  );
  const r = rows[0]!;
  return { id: Number(r.id), channel, userId, state: { ...freshState(), ...r.state }, handedOver: r.handed_over };
}

export interface MessageRecord {
  direction: 'in' | 'out';
  kind: string;
  text?: string;
  payload?: unknown;
}

const record = (m: MessageRecord) => ({
  direction: m.direction,
  kind: m.kind,
  text: m.text === undefined ? null : maskPersonalNumbers(m.text),
  payload: m.payload === undefined ? null : maskValue(m.payload),
});

/** What a citizen is owed, from the tables that keep it across resets and expired contexts. */
export interface Owed {
  /** Notices that found no open chat (a late case number), oldest first. */
  notices: Array<{ id: number; replies: Reply[]; awaiting?: Awaiting | null }>;
  /** Surveys that could not be asked yet (no open chat when the case closed), oldest first. */
  surveys: Array<{ id: number; caseId: string; round: number; level: number }>;
}

/** What a turn told of what was owed: marked in the write that saves the turn. */
export interface Told {
  notices: number[];
  survey?: number;
  at: Date;
}

/**
 * Opens (or creates) the conversation, records the inbound message and reads what the
 * citizen is owed, in one round trip, before the turn runs: a message is stored even if
 * the turn then fails.
 */
export async function beginTurn(db: Queryable, channel: string, userId: string, inbound: MessageRecord): Promise<ConversationRow & { owed: Owed }> {
  const m = record(inbound);
  const { rows } = await db.query<{ id: string; state: ConversationState; handed_over: boolean; notices: Owed['notices']; surveys: Owed['surveys'] }>(
    `WITH c AS (
       INSERT INTO conversations (channel, user_id) VALUES ($1, $2)
       ON CONFLICT (channel, user_id) DO UPDATE SET updated_at = now()
       RETURNING id, state, handed_over),
     m AS (INSERT INTO messages (conversation_id, direction, kind, text, payload) SELECT id, 'in', $3, $4, $5 FROM c)
     SELECT id, state, handed_over,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', n.id, 'replies', n.replies, 'awaiting', n.awaiting) ORDER BY n.id), '[]'::jsonb)
          FROM pending_notices n WHERE n.channel = $1 AND n.user_id = $2 AND n.told_at IS NULL) AS notices,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', s.id, 'caseId', s.case_id, 'round', s.round, 'level', s.level) ORDER BY s.id), '[]'::jsonb)
          FROM surveys s WHERE s.channel = $1 AND s.user_id = $2 AND s.status = 'pending') AS surveys
     FROM c`,
    [channel, userId, m.kind, m.text, m.payload === null ? null : JSON.stringify(m.payload)],
  );
  const r = rows[0]!;
  return {
    id: Number(r.id),
    channel,
    userId,
    state: { ...freshState(), ...r.state },
    handedOver: r.handed_over,
    owed: { notices: r.notices.map((n) => ({ ...n, id: Number(n.id) })), surveys: r.surveys.map((s) => ({ ...s, id: Number(s.id) })) },
  };
}

/**
 * Saves the state, records the replies and, when the turn asked the retriever, the
 * question log row, the handled channel message, and what it told of what was owed
 * (notices marked told, the survey marked asked), in one round trip: a crash before it
 * leaves everything owed still owed; after it, nothing is told twice.
 */
export async function endTurn(
  db: Queryable,
  c: ConversationRow,
  replies: MessageRecord[],
  extra: { question?: ReturnType<typeof questionRow>; handled?: { messageId: string; replies: unknown[] }; told?: Told } = {},
): Promise<void> {
  const { question, handled, told } = extra;
  await db.query(
    `WITH c AS (UPDATE conversations SET state = $2, handed_over = $3, updated_at = now() WHERE id = $1 RETURNING id),
     h AS (INSERT INTO handled_messages (channel, message_id, replies) SELECT $6::text, $7::text, $8::jsonb WHERE $7::text IS NOT NULL ON CONFLICT DO NOTHING),
     n AS (UPDATE pending_notices SET told_at = $9::timestamptz
           WHERE id IN (SELECT jsonb_array_elements_text($10::jsonb)::bigint) AND told_at IS NULL),
     s AS (UPDATE surveys SET status = 'asked', asked_at = $9::timestamptz WHERE id = $11::bigint AND status = 'pending'),
     q AS (
       INSERT INTO question_log (channel, text, normalized, intent, item_id, candidates, aspect, confidence, latency_ms, kb_checksum, kb_release, conversation_id)
       SELECT channel, text, normalized, intent, item_id, candidates, aspect, confidence, latency_ms, kb_checksum, kb_release, $1
       FROM jsonb_to_recordset($5::jsonb) AS x(channel text, text text, normalized text, intent text, item_id text,
         candidates jsonb, aspect text, confidence real, latency_ms real, kb_checksum text, kb_release bigint))
     INSERT INTO messages (conversation_id, direction, kind, text, payload)
     SELECT c.id, m.direction, m.kind, m.text, m.payload
     FROM c, jsonb_to_recordset($4::jsonb) AS m(direction text, kind text, text text, payload jsonb)`,
    [
      c.id,
      JSON.stringify(c.state),
      c.handedOver,
      JSON.stringify(replies.map(record)),
      JSON.stringify(question ? [question] : []),
      c.channel,
      handled?.messageId ?? null,
      JSON.stringify(handled ? maskValue(handled.replies) : []),
      (told?.at ?? new Date()).toISOString(),
      JSON.stringify(told?.notices ?? []),
      told?.survey ?? null,
    ],
  );
}

/**
 * Keeps a notice that found no open chat, to be told at the citizen's next message. One that
 * asks a question (`awaiting`, a request for information) opens it when told.
 */
export async function oweNotice(db: Queryable, channel: string, userId: string, replies: Reply[], awaiting?: Awaiting): Promise<void> {
  await db.query('INSERT INTO pending_notices (channel, user_id, replies, awaiting) VALUES ($1, $2, $3, $4)', [
    channel,
    userId,
    JSON.stringify(replies),
    awaiting ? JSON.stringify(awaiting) : null,
  ]);
}

/**
 * Removes unfinished case drafts (raw mobile, name, description) from conversations whose
 * last activity is older than `olderThan` (now minus the context TTL): such a draft has
 * expired and would be forgotten at the next message anyway. Returns how many were purged.
 * Run it from a periodic job; the rest of the state (and what the citizen is owed) stays.
 */
export async function purgeExpiredDrafts(db: Queryable, olderThan: Date): Promise<number> {
  const { rows } = await db.query(
    `UPDATE conversations SET state = state - 'awaiting' - 'menu'
     WHERE state -> 'awaiting' ->> 'kind' = 'case'
       AND COALESCE((state ->> 'lastAt')::timestamptz, updated_at) < $1
     RETURNING id`,
    [olderThan.toISOString()],
  );
  return rows.length;
}

/** A channel message handled already (its turn was saved): its replies and whether they were sent. */
export async function handledMessage(db: Queryable, channel: string, messageId: string): Promise<{ replies: Reply[]; delivered: boolean } | null> {
  const { rows } = await db.query<{ replies: Reply[]; delivered: boolean }>('SELECT replies, delivered FROM handled_messages WHERE channel = $1 AND message_id = $2', [
    channel,
    messageId,
  ]);
  return rows[0] ?? null;
}

/** The channel sent the replies of a handled message. */
export async function markDelivered(db: Database, channel: string, messageId: string): Promise<void> {
  await db.query('UPDATE handled_messages SET delivered = true WHERE channel = $1 AND message_id = $2', [channel, messageId]);
}

export async function listMessages(db: Database, conversationId: number): Promise<Array<{ direction: string; kind: string; text: string | null }>> {
  const { rows } = await db.query<{ direction: string; kind: string; text: string | null }>(
    'SELECT direction, kind, text FROM messages WHERE conversation_id = $1 ORDER BY id',
    [conversationId],
  );
  return rows;
}

export interface HandoffRow {
  id: number;
  conversationId: number;
  kind: 'handoff' | 'message';
  status: string;
  summary: HandoffSummary;
  text: string | null;
  channel: string;
  userId: string;
}

/** A 转人工 request in the staff queue, with what the bot knew (messages left for staff are cases now). */
export async function createHandoff(db: Queryable, conversationId: number, summary: HandoffSummary): Promise<number> {
  // A new request supersedes one nobody took in time: the inbox shows the citizen once.
  const { rows } = await db.query<{ id: string }>(
    `WITH superseded AS (
       UPDATE handoffs SET status = 'closed', updated_at = now() WHERE conversation_id = $1 AND kind = 'handoff' AND status = 'missed'
     )
     INSERT INTO handoffs (conversation_id, kind, summary) VALUES ($1, 'handoff', $2) RETURNING id`,
    [conversationId, maskPersonalNumbers(JSON.stringify(summary))],
  );
  return Number(rows[0]!.id);
}

export async function listHandoffs(db: Database, status = 'open'): Promise<HandoffRow[]> {
  const { rows } = await db.query<HandoffRow>(
    `SELECT h.id, h.conversation_id AS "conversationId", h.kind, h.status, h.summary, h.text, c.channel, c.user_id AS "userId"
     FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
     WHERE h.status = $1 ORDER BY h.id`,
    [status],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), conversationId: Number(r.conversationId) }));
}

/** Staff hand the conversation back to the bot: the hand-over is closed and the bot speaks again. */
export async function releaseConversation(db: Database, channel: string, userId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      'UPDATE conversations SET handed_over = false, updated_at = now() WHERE channel = $1 AND user_id = $2 AND handed_over RETURNING id',
      [channel, userId],
    );
    if (!rows[0]) return false;
    await tx.query(`UPDATE handoffs SET status = 'released', updated_at = now() WHERE conversation_id = $1 AND kind = 'handoff' AND status IN ('open', 'accepted')`, [
      Number(rows[0].id),
    ]);
    return true;
  });
}

/** The citizen's latest messages, oldest first (masked as stored), to show a reloaded chat. */
export async function recentMessages(
  db: Database,
  channel: string,
  userId: string,
  limit: number,
): Promise<Array<{ direction: string; kind: string; text: string | null; payload: unknown; at: string }>> {
  const { rows } = await db.query<{ direction: string; kind: string; text: string | null; payload: unknown; at: Date | string }>(
    `SELECT * FROM (
       SELECT m.id, m.direction, m.kind, m.text, m.payload, m.at FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.channel = $1 AND c.user_id = $2 AND NOT (m.direction = 'in' AND m.kind = 'event')
       ORDER BY m.id DESC LIMIT $3) x ORDER BY id`,
    [channel, userId, limit],
  );
  return rows.map((r) => ({ direction: r.direction, kind: r.kind, text: r.text, payload: r.payload, at: new Date(r.at).toISOString() }));
}
