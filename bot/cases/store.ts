/** Case links, handled callback events, satisfaction surveys and recent submissions in the store. */
import type { Database, Queryable } from '../store/database.ts';

export interface Survey {
  id: number;
  caseId: string;
  round: number;
  level: number;
  channel: string;
  userId: string;
  status: 'pending' | 'asked' | 'reminded' | 'answered' | 'unrated';
  rating: string | null;
  comment: string | null;
  askedAt: Date | null;
  remindedAt: Date | null;
}

const COLUMNS = `id, case_id AS "caseId", round, level, channel, user_id AS "userId", status, rating, comment,
  asked_at AS "askedAt", reminded_at AS "remindedAt"`;
const toSurvey = (r: Survey): Survey => ({ ...r, id: Number(r.id) });

export async function linkCase(db: Queryable, caseId: string, channel: string, userId: string): Promise<void> {
  await db.query('INSERT INTO case_links (case_id, channel, user_id) VALUES ($1, $2, $3) ON CONFLICT (case_id) DO NOTHING', [caseId, channel, userId]);
}

export async function caseLink(db: Queryable, caseId: string): Promise<{ channel: string; userId: string } | null> {
  const { rows } = await db.query<{ channel: string; userId: string }>('SELECT channel, user_id AS "userId" FROM case_links WHERE case_id = $1', [caseId]);
  return rows[0] ?? null;
}

/** Records an event id; false when it was seen before (a platform's retry). */
export async function firstTimeEvent(db: Queryable, eventId: string, type: string, caseId: string): Promise<boolean> {
  const { rows } = await db.query('INSERT INTO callback_events (event_id, type, case_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING event_id', [
    eventId,
    type,
    caseId,
  ]);
  return rows.length > 0;
}

/** One survey per case and round: a second close of the same round creates nothing. */
export async function createSurvey(db: Queryable, s: { caseId: string; round: number; level: number; channel: string; userId: string }): Promise<Survey | null> {
  const { rows } = await db.query<Survey>(
    `INSERT INTO surveys (case_id, round, level, channel, user_id, status) VALUES ($1, $2, $3, $4, $5, 'pending')
     ON CONFLICT (case_id, round) DO NOTHING RETURNING ${COLUMNS}`,
    [s.caseId, s.round, s.level, s.channel, s.userId],
  );
  return rows[0] ? toSurvey(rows[0]) : null;
}

export async function markAsked(db: Queryable, id: number, at: Date): Promise<void> {
  await db.query(`UPDATE surveys SET status = 'asked', asked_at = $2 WHERE id = $1 AND status = 'pending'`, [id, at.toISOString()]);
}

export async function getSurvey(db: Queryable, id: number): Promise<Survey | null> {
  const { rows } = await db.query<Survey>(`SELECT ${COLUMNS} FROM surveys WHERE id = $1`, [id]);
  return rows[0] ? toSurvey(rows[0]) : null;
}

/**
 * Surveys still waiting to reach the citizen (they had no open chat when the case closed).
 * The engine reads them with beginTurn, in the query that opens a turn.
 */
export async function pendingSurveys(db: Queryable, channel: string, userId: string): Promise<Survey[]> {
  const { rows } = await db.query<Survey>(`SELECT ${COLUMNS} FROM surveys WHERE channel = $1 AND user_id = $2 AND status = 'pending' ORDER BY id`, [channel, userId]);
  return rows.map(toSurvey);
}

/** Records the answer; false if this round was answered already (one rating per round). */
export async function answerSurvey(db: Queryable, id: number, rating: string, comment: string | null, at: Date): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE surveys SET status = 'answered', rating = $2, comment = $3, answered_at = $4 WHERE id = $1 AND status IN ('pending', 'asked', 'reminded') RETURNING id`,
    [id, rating, comment, at.toISOString()],
  );
  return rows.length > 0;
}

/** Asked 48 hours ago and not answered: due for the one reminder. */
export async function dueForReminder(db: Database, now: Date): Promise<Survey[]> {
  const { rows } = await db.query<Survey>(`SELECT ${COLUMNS} FROM surveys WHERE status = 'asked' AND asked_at <= $1`, [new Date(now.getTime() - 48 * 3_600_000).toISOString()]);
  return rows.map(toSurvey);
}

export async function markReminded(db: Database, id: number, at: Date): Promise<void> {
  await db.query(`UPDATE surveys SET status = 'reminded', reminded_at = $2 WHERE id = $1 AND status = 'asked'`, [id, at.toISOString()]);
}

/** Reminded 48 hours ago and still not answered: recorded as 未评价. */
export async function expireUnanswered(db: Database, now: Date): Promise<number> {
  const { rows } = await db.query(
    `UPDATE surveys SET status = 'unrated', rating = '未评价', answered_at = $1 WHERE status = 'reminded' AND reminded_at <= $2 RETURNING id`,
    [now.toISOString(), new Date(now.getTime() - 48 * 3_600_000).toISOString()],
  );
  return rows.length;
}

/** A case the citizen submitted (an outbox create_case entry), as the similarity check reads it. */
export interface RecentSubmission {
  outboxId: number;
  /** The masked description (a delivered entry keeps only that). */
  description: string;
  /** The case number once the platform made it; null while it waits or is held. */
  caseId: string | null;
}

/**
 * The citizen's submissions of the last `minutes` (by the database clock, the one that
 * stamped them), newest first, except the one with `exceptKey` (the draft being confirmed).
 */
export async function recentSubmissions(db: Queryable, channel: string, userId: string, minutes: number, exceptKey: string): Promise<RecentSubmission[]> {
  const { rows } = await db.query<{ id: string; description: string | null; case_id: string | null }>(
    `SELECT id, payload -> 'newCase' ->> 'description' AS description, CASE WHEN status = 'done' THEN result ->> 'id' END AS case_id
     FROM outbox
     WHERE kind = 'create_case' AND created_at > now() - make_interval(mins => $3::int)
       AND payload ->> 'channel' = $1 AND payload ->> 'userId' = $2 AND idempotency_key <> $4
     ORDER BY id DESC LIMIT 20`,
    [channel, userId, minutes, exceptKey],
  );
  return rows.map((r) => ({ outboxId: Number(r.id), description: r.description ?? '', caseId: r.case_id }));
}
