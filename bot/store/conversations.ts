/** Conversations, their messages and hand-over requests in the store. */
import { maskPersonalNumbers } from '../privacy.ts';
import { freshState, type ConversationState } from '../conversation-state.ts';
import type { HandoffSummary } from '../messages.ts';
import type { Database } from './database.ts';

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

export async function saveConversation(db: Database, c: ConversationRow): Promise<void> {
  await db.query('UPDATE conversations SET state = $2, handed_over = $3, updated_at = now() WHERE id = $1', [
    c.id,
    JSON.stringify(c.state),
    c.handedOver,
  ]);
}

export async function logMessage(
  db: Database,
  conversationId: number,
  direction: 'in' | 'out',
  kind: string,
  text: string | undefined,
  payload?: unknown,
): Promise<void> {
  await db.query('INSERT INTO messages (conversation_id, direction, kind, text, payload) VALUES ($1, $2, $3, $4, $5)', [
    conversationId,
    direction,
    kind,
    text === undefined ? null : maskPersonalNumbers(text),
    payload === undefined ? null : maskPersonalNumbers(JSON.stringify(payload)),
  ]);
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

export async function createHandoff(
  db: Database,
  conversationId: number,
  kind: 'handoff' | 'message',
  summary: HandoffSummary,
  text?: string,
): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO handoffs (conversation_id, kind, summary, text) VALUES ($1, $2, $3, $4) RETURNING id',
    [conversationId, kind, maskPersonalNumbers(JSON.stringify(summary)), text === undefined ? null : maskPersonalNumbers(text)],
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
