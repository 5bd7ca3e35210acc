/** The question log: what was asked and how 小安 understood it, for eval and analytics. */
import type { AskResult } from '../ask.ts';
import { maskPersonalNumbers } from '../privacy.ts';
import type { Database } from './database.ts';

export interface LoggedQuestion {
  id: number;
  channel: string;
  text: string;
  normalized: string;
  intent: string;
  itemId: string | null;
  candidates: Array<{ id: string; score: number }>;
  aspect: string | null;
  confidence: number | null;
  latencyMs: number;
}

/** The question as a question_log row (personal numbers masked), for one insert or a batch. */
export function questionRow(channel: string, r: AskResult, kbChecksum?: string, kbRelease?: number) {
  return {
    channel,
    text: maskPersonalNumbers(r.query),
    normalized: maskPersonalNumbers(r.normalized),
    intent: r.intent,
    item_id: r.item?.id ?? null,
    candidates: r.candidates.map((c) => ({ id: c.id, score: c.score })),
    aspect: r.aspect,
    confidence: r.confidence,
    latency_ms: r.latencyMs,
    kb_checksum: kbChecksum ?? null,
    kb_release: kbRelease ?? null,
  };
}

export async function logQuestion(db: Database, channel: string, r: AskResult, kbChecksum?: string, kbRelease?: number): Promise<void> {
  const q = questionRow(channel, r, kbChecksum, kbRelease);
  await db.query(
    `INSERT INTO question_log (channel, text, normalized, intent, item_id, candidates, aspect, confidence, latency_ms, kb_checksum, kb_release)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [q.channel, q.text, q.normalized, q.intent, q.item_id, JSON.stringify(q.candidates), q.aspect, q.confidence, q.latency_ms, q.kb_checksum, q.kb_release],
  );
}

export async function recentQuestions(db: Database, limit = 50): Promise<LoggedQuestion[]> {
  const { rows } = await db.query<LoggedQuestion>(
    `SELECT id, channel, text, normalized, intent, item_id AS "itemId", candidates, aspect, confidence,
            latency_ms AS "latencyMs"
     FROM question_log ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
