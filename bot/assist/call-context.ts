/**
 * The context of one hotline call: the item being talked about, the aspect last asked and
 * the caller's 情形 — what a chat keeps in its conversation state, kept here per call id in
 * the database, so it survives a restart and every process sees the same call. A call is
 * short: its context counts only while fresh (CALL_CONTEXT_TTL_MINUTES since the last
 * utterance), and the retention job deletes stale rows.
 */
import type { Aspect } from '../../knowledge-base/lexicon.ts';
import type { Queryable } from '../store/database.ts';

/** Minutes of silence after which a call's context is forgotten. */
export const CALL_CONTEXT_TTL_MINUTES = 15;

/** A call id from a hotline system or the page: letters, digits and . _ : - (1–64). */
export const CALL_ID = /^[\w.:-]{1,64}$/;

export interface CallContext {
  itemId?: string;
  aspect?: Aspect;
  situation?: string;
}

/** The call's context, or an empty one when the call is new or silent for too long. */
export async function loadCallContext(db: Queryable, callId: string, ttlMinutes = CALL_CONTEXT_TTL_MINUTES): Promise<CallContext> {
  const { rows } = await db.query<{ state: CallContext }>(
    `SELECT state FROM assist_calls WHERE call_id = $1 AND updated_at > now() - make_interval(secs => $2)`,
    [callId, ttlMinutes * 60],
  );
  return rows[0]?.state ?? {};
}

/** Saves the call's context and restarts its clock. */
export async function saveCallContext(db: Queryable, callId: string, context: CallContext): Promise<void> {
  await db.query(
    `INSERT INTO assist_calls (call_id, state) VALUES ($1, $2)
     ON CONFLICT (call_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
    [callId, JSON.stringify(contextOnly(context))],
  );
}

/** Only the fields of a context (nothing else is ever stored with it). */
export function contextOnly(c: CallContext): CallContext {
  return {
    ...(c.itemId ? { itemId: c.itemId } : {}),
    ...(c.aspect ? { aspect: c.aspect } : {}),
    ...(c.situation ? { situation: c.situation } : {}),
  };
}

/** The context after an answer about one item (for one aspect, maybe one 情形). */
export const contextOf = (s: { itemId: string; aspect: Aspect; situation: string | null }): CallContext => ({
  itemId: s.itemId,
  aspect: s.aspect,
  ...(s.situation ? { situation: s.situation } : {}),
});
