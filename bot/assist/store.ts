/**
 * The assistant's records: every utterance with what was suggested (the unanswered ones are
 * the knowledge base's to-do list), and what staff made of each suggestion (采纳, 修改后采纳,
 * 无用), with the item and the utterance. ID and phone numbers are masked in everything stored.
 */
import { maskPersonalNumbers } from '../privacy.ts';
import type { AskResult } from '../ask.ts';
import type { Database, Queryable } from '../store/database.ts';
import { questionRow } from '../store/question-log.ts';
import { CALL_CONTEXT_TTL_MINUTES, contextOf, contextOnly, type CallContext } from './call-context.ts';
import type { AssistOutcome, SuggestionDraft } from './suggestions.ts';

/** The question log's channel of the assistant's utterances. */
export const ASSIST_CHANNEL = 'hotline';

export const VERDICTS = ['adopted', 'edited', 'useless'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A suggestion is named by its utterance and its rank there: "123-1". */
export const SUGGESTION_ID = /^([1-9]\d{0,17})-([1-3])$/;
export const suggestionId = (utteranceId: number, rank: number) => `${utteranceId}-${rank}`;

/**
 * Records one utterance: the utterance and its suggestions, the question log row and, for a
 * call, its new context (its clock restarted) — in one statement, so all or nothing.
 */
export async function recordUtterance(
  db: Queryable,
  u: { callId: string | null; actor: string; outcome: AssistOutcome; kbChecksum?: string; kbRelease?: number },
): Promise<number> {
  const { outcome: o } = u;
  const r: AskResult = o.asked;
  const top = o.suggestions[0];
  const q = questionRow(ASSIST_CHANNEL, r, u.kbChecksum, u.kbRelease);
  const { rows } = await db.query<{ id: string }>(
    `WITH u AS (
       INSERT INTO assist_utterances (call_id, actor, text, intent, item_id, aspect, confidence, unanswered, emergency, suggestions)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id),
     c AS (
       INSERT INTO assist_calls (call_id, state) SELECT $1::text, $11::jsonb WHERE $1::text IS NOT NULL
       ON CONFLICT (call_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()),
     q AS (
       INSERT INTO question_log (channel, text, normalized, intent, item_id, candidates, aspect, confidence, latency_ms, kb_checksum, kb_release)
       VALUES ($12, $3, $13, $14, $15, $16, $17, $7, $18, $19, $20))
     SELECT id FROM u`,
    [
      u.callId,
      u.actor,
      q.text,
      o.intent,
      top?.itemId ?? null,
      top?.aspect ?? r.aspect,
      r.confidence,
      o.unanswered,
      o.emergency?.number ?? null,
      JSON.stringify(o.suggestions.map(stored)),
      JSON.stringify(contextOnly(o.context)),
      q.channel,
      q.normalized,
      q.intent,
      q.item_id,
      JSON.stringify(q.candidates),
      q.aspect,
      q.latency_ms,
      q.kb_checksum,
      q.kb_release,
    ],
  );
  return Number(rows[0]!.id);
}

/** What is kept of a suggestion: enough to tell later what was said, and about what. */
const stored = (s: SuggestionDraft) => ({ itemId: s.itemId, itemName: s.itemName, aspect: s.aspect, situation: s.situation, text: maskPersonalNumbers(s.text) });
type StoredSuggestion = ReturnType<typeof stored>;

export type FeedbackTarget = { suggestionId: string } | { callId: string; utterance: string; itemId: string };

export interface FeedbackRecord {
  id: number;
  suggestionId: string;
  utteranceId: number;
  callId: string | null;
  utterance: string;
  itemId: string;
  verdict: Verdict;
  editedText: string | null;
}

/**
 * Stores staff's verdict on one suggestion (a later verdict on the same suggestion replaces
 * the earlier one). 采纳 or 修改后采纳 of a suggestion of the call's latest utterance makes
 * its item the call's context, as choosing an item does in the chat. Null when there is no
 * such suggestion.
 */
export async function recordFeedback(
  db: Database,
  f: { target: FeedbackTarget; verdict: Verdict; editedText?: string; actor: string },
  ttlMinutes = CALL_CONTEXT_TTL_MINUTES,
): Promise<FeedbackRecord | null> {
  return db.transaction(async (tx) => {
    const found = await findSuggestion(tx, f.target);
    if (!found) return null;
    const { utterance, rank, suggestion } = found;
    const edited = f.editedText === undefined ? null : maskPersonalNumbers(f.editedText);
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO assist_feedback (actor, utterance_id, rank, call_id, utterance, item_id, suggestion, verdict, edited_text)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (utterance_id, rank) DO UPDATE
         SET at = now(), actor = EXCLUDED.actor, verdict = EXCLUDED.verdict, edited_text = EXCLUDED.edited_text
       RETURNING id`,
      [f.actor, utterance.id, rank, utterance.call_id, utterance.text, suggestion.itemId, suggestion.text, f.verdict, edited],
    );
    if (utterance.call_id && f.verdict !== 'useless') {
      await tx.query(
        `UPDATE assist_calls SET state = $2, updated_at = now()
         WHERE call_id = $1 AND updated_at > now() - make_interval(secs => $3)
           AND (SELECT max(id) FROM assist_utterances WHERE call_id = $1) = $4`,
        [utterance.call_id, JSON.stringify(contextOnly(contextOf(suggestion))), ttlMinutes * 60, utterance.id],
      );
    }
    return {
      id: Number(rows[0]!.id),
      suggestionId: suggestionId(utterance.id, rank),
      utteranceId: utterance.id,
      callId: utterance.call_id,
      utterance: utterance.text,
      itemId: suggestion.itemId,
      verdict: f.verdict,
      editedText: edited,
    };
  });
}

interface UtteranceRow {
  id: number;
  call_id: string | null;
  text: string;
  suggestions: StoredSuggestion[];
}

async function findSuggestion(db: Queryable, t: FeedbackTarget): Promise<{ utterance: UtteranceRow; rank: number; suggestion: StoredSuggestion } | null> {
  let row: UtteranceRow | undefined;
  let rank: number;
  if ('suggestionId' in t) {
    const m = SUGGESTION_ID.exec(t.suggestionId);
    if (!m) return null;
    row = (await db.query<UtteranceRow>('SELECT id, call_id, text, suggestions FROM assist_utterances WHERE id = $1', [m[1]])).rows[0];
    rank = Number(m[2]);
  } else {
    // The latest time this utterance was heard in the call with this item among the suggestions.
    row = (
      await db.query<UtteranceRow>(
        `SELECT id, call_id, text, suggestions FROM assist_utterances
         WHERE call_id = $1 AND text = $2 AND suggestions @> jsonb_build_array(jsonb_build_object('itemId', $3::text))
         ORDER BY id DESC LIMIT 1`,
        [t.callId, maskPersonalNumbers(t.utterance), t.itemId],
      )
    ).rows[0];
    rank = row ? row.suggestions.findIndex((s) => s.itemId === t.itemId) + 1 : 0;
  }
  const suggestion = row?.suggestions[rank - 1];
  return row && suggestion ? { utterance: { ...row, id: Number(row.id) }, rank, suggestion } : null;
}

/** The latest unanswered utterances, newest first (for the knowledge base's unanswered loop). */
export async function unansweredUtterances(db: Queryable, limit = 50): Promise<Array<{ id: number; at: string; callId: string | null; text: string }>> {
  const { rows } = await db.query<{ id: string; at: Date | string; call_id: string | null; text: string }>(
    'SELECT id, at, call_id, text FROM assist_utterances WHERE unanswered ORDER BY id DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ id: Number(r.id), at: new Date(r.at).toISOString(), callId: r.call_id, text: r.text }));
}

/** Verdicts with their item and utterance, newest first (for the knowledge base's unanswered loop). */
export async function listFeedback(db: Queryable, o: { itemId?: string; verdict?: Verdict; limit?: number } = {}): Promise<FeedbackRecord[]> {
  const { rows } = await db.query<{ id: string; utterance_id: string; rank: number; call_id: string | null; utterance: string; item_id: string; verdict: Verdict; edited_text: string | null }>(
    `SELECT id, utterance_id, rank, call_id, utterance, item_id, verdict, edited_text FROM assist_feedback
     WHERE ($1::text IS NULL OR item_id = $1) AND ($2::text IS NULL OR verdict = $2)
     ORDER BY at DESC, id DESC LIMIT $3`,
    [o.itemId ?? null, o.verdict ?? null, o.limit ?? 50],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    suggestionId: suggestionId(Number(r.utterance_id), Number(r.rank)),
    utteranceId: Number(r.utterance_id),
    callId: r.call_id,
    utterance: r.utterance,
    itemId: r.item_id,
    verdict: r.verdict,
    editedText: r.edited_text,
  }));
}
