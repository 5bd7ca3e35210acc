/**
 * Personal data is kept only as long as it is needed: a daily job deletes messages, the
 * question log, handled-message records, notices told, finished hand-overs, delivered outbox calls and 热线助手 utterances older
 * than RETENTION_DAYS, idle conversations with nothing left in them, expired citizen sessions,
 * and clears the contact fields of cases closed more than RETENTION_DAYS ago. The audit log is
 * never touched: it is append-only by design (a trigger refuses deletes).
 */
import type { Queryable } from './database.ts';

/** Rows deleted per statement: a large backlog is worked off without one long lock. */
const BATCH = 5_000;
/** A web session unused this long is gone (its cookie expired in the browser too). */
export const SESSION_MAX_AGE_DAYS = 30;

export interface RetentionReport {
  messages: number;
  questions: number;
  handledMessages: number;
  handoffs: number;
  outbox: number;
  callbackEvents: number;
  wecomSeen: number;
  notices: number;
  conversations: number;
  citizenSessions: number;
  casesCleared: number;
  /** 热线助手: utterances (with staff's verdicts on them) past RETENTION_DAYS, and call contexts idle for a day. */
  assist: number;
}

async function deleteInBatches(db: Queryable, table: string, where: string, params: unknown[], key = 'id'): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `WITH gone AS (DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ${BATCH}) RETURNING 1) SELECT count(*) AS n FROM gone`,
      params,
    );
    const n = Number(rows[0]!.n);
    total += n;
    if (n < BATCH) return total;
  }
}

/** Runs every rule once; `now` is for tests. */
export async function applyRetention(db: Queryable, retentionDays: number, now = new Date()): Promise<RetentionReport> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  const sessionCutoff = new Date(now.getTime() - SESSION_MAX_AGE_DAYS * 86_400_000).toISOString();
  const report: RetentionReport = {
    messages: await deleteInBatches(db, 'messages', 'at < $1', [cutoff]),
    questions: await deleteInBatches(db, 'question_log', 'asked_at < $1', [cutoff]),
    handledMessages: await deleteInBatches(db, 'handled_messages', 'at < $1', [cutoff], 'ctid'),
    handoffs: await deleteInBatches(db, 'handoffs', `status IN ('released', 'closed') AND updated_at < $1`, [cutoff]),
    outbox: await deleteInBatches(db, 'outbox', `status = 'done' AND updated_at < $1`, [cutoff]),
    callbackEvents: await deleteInBatches(db, 'callback_events', 'received_at < $1', [cutoff], 'event_id'),
    // WeCom redelivers within days, never months: old msgids and given-up attempts can go.
    wecomSeen:
      (await deleteInBatches(db, 'wecom_seen', 'at < $1', [cutoff], 'msgid')) +
      (await deleteInBatches(db, 'wecom_attempts', 'gave_up_at < $1', [cutoff], 'msgid')),
    notices: await deleteInBatches(db, 'pending_notices', 'told_at < $1', [cutoff]),
    // A conversation idle that long, with no message or hand-over left, is its state only (an old topic, an old draft).
    conversations: await deleteInBatches(
      db,
      'conversations',
      `updated_at < $1 AND NOT handed_over AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id)
         AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = conversations.id)`,
      [cutoff],
    ),
    citizenSessions: await deleteInBatches(db, 'citizen_sessions', 'last_seen_at < $1', [sessionCutoff], 'token_hash'),
    casesCleared: 0,
    assist:
      (await deleteInBatches(db, 'assist_utterances', 'at < $1', [cutoff])) +
      (await deleteInBatches(db, 'assist_calls', 'updated_at < $1', [new Date(now.getTime() - 86_400_000).toISOString()], 'call_id')),
  };
  // A closed case keeps what it was about and how it ended, not who to call.
  const cleared = await db.query<{ id: string }>(
    `UPDATE cases SET citizen_mobile = '', citizen_name = NULL
     WHERE status = 'closed' AND closed_at < $1 AND (citizen_mobile <> '' OR citizen_name IS NOT NULL) RETURNING id`,
    [cutoff],
  );
  report.casesCleared = cleared.rows.length;
  return report;
}
