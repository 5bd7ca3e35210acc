/** Conversations, their messages and hand-over requests in the store. */
import { maskPersonalNumbers } from '../privacy.ts';
import { freshState, type ConversationState } from '../conversation-state.ts';
import type { HandoffSummary, Reply } from '../messages.ts';
import type { Database } from './database.ts';
import type { questionRow } from './question-log.ts';

export interface ConversationRow {
  id: number;
  channel: string;
  userId: string;
  state: ConversationState;
  handedOver: boolean;
}

export async function loadConversation(db: Database, channel: string, userId: string): Promise<ConversationRow> {
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
  payload: m.payload === undefined ? null : JSON.parse(maskPersonalNumbers(JSON.stringify(m.payload))),
});

/**
 * Opens (or creates) the conversation and records the inbound message, in one round trip,
 * before the turn runs: a message is stored even if the turn then fails.
 */
export async function beginTurn(db: Database, channel: string, userId: string, inbound: MessageRecord): Promise<ConversationRow> {
  const m = record(inbound);
  const { rows } = await db.query<{ id: string; state: ConversationState; handed_over: boolean }>(
    `WITH c AS (
       INSERT INTO conversations (channel, user_id) VALUES ($1, $2)
       ON CONFLICT (channel, user_id) DO UPDATE SET updated_at = now()
       RETURNING id, state, handed_over),
     m AS (INSERT INTO messages (conversation_id, direction, kind, text, payload) SELECT id, 'in', $3, $4, $5 FROM c)
     SELECT id, state, handed_over FROM c`,
    [channel, userId, m.kind, m.text, m.payload === null ? null : JSON.stringify(m.payload)],
  );
  const r = rows[0]!;
  return { id: Number(r.id), channel, userId, state: { ...freshState(), ...r.state }, handedOver: r.handed_over };
}

/**
 * Saves the state, records the replies and, when the turn asked the retriever, the
 * question log row, in one round trip.
 */
export async function endTurn(
  db: Database,
  c: ConversationRow,
  replies: MessageRecord[],
  question?: ReturnType<typeof questionRow>,
  handled?: { messageId: string; replies: unknown[] },
): Promise<void> {
  await db.query(
    `WITH c AS (UPDATE conversations SET state = $2, handed_over = $3, updated_at = now() WHERE id = $1 RETURNING id),
     h AS (INSERT INTO handled_messages (channel, message_id, replies) SELECT $6::text, $7::text, $8::jsonb WHERE $7::text IS NOT NULL ON CONFLICT DO NOTHING),
     q AS (
       INSERT INTO question_log (channel, text, normalized, intent, item_id, candidates, aspect, confidence, latency_ms, kb_checksum)
       SELECT channel, text, normalized, intent, item_id, candidates, aspect, confidence, latency_ms, kb_checksum
       FROM jsonb_to_recordset($5::jsonb) AS x(channel text, text text, normalized text, intent text, item_id text,
         candidates jsonb, aspect text, confidence real, latency_ms real, kb_checksum text))
     INSERT INTO messages (conversation_id, direction, kind, text, payload)
     SELECT c.id, m.direction, m.kind, m.text, m.payload
     FROM c, jsonb_to_recordset($4::jsonb) AS m(direction text, kind text, text text, payload jsonb)`,
    [c.id, JSON.stringify(c.state), c.handedOver, JSON.stringify(replies.map(record)), JSON.stringify(question ? [question] : []), c.channel, handled?.messageId ?? null, JSON.stringify(handled ? JSON.parse(maskPersonalNumbers(JSON.stringify(handled.replies))) : [])],
  );
}

/** A channel message handled already (its turn was saved): its replies and whether they were sent. */
export async function handledMessage(db: Database, channel: string, messageId: string): Promise<{ replies: Reply[]; delivered: boolean } | null> {
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
export async function createHandoff(db: Database, conversationId: number, summary: HandoffSummary): Promise<number> {
  const { rows } = await db.query<{ id: string }>("INSERT INTO handoffs (conversation_id, kind, summary) VALUES ($1, 'handoff', $2) RETURNING id", [
    conversationId,
    maskPersonalNumbers(JSON.stringify(summary)),
  ]);
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
