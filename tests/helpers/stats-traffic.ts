/**
 * The traffic the 统计 tests reconcile with: three citizens' chats (one answered and done,
 * one answered who then asks for a person, one out of scope) and four cases of two units —
 * 人民路派出所 (中心区分局) closed on time, and closed late and escalated after a 差评 put right;
 * 滨江派出所 (东城区分局) one overdue and open, one on time and not rated.
 */
import type { Queryable } from '../../bot/store/database.ts';

export const STATS_CHAT_TOKEN = 'chat-token-0123456789';
/**
 * A hand-over queue staffed around the clock (else 转人工 after 17:00 in Asia/Shanghai queues
 * nothing and the counts depend on the hour the tests run), and warnings at one overdue case
 * or one 差评.
 */
export const STATS_ENV = { CHAT_API_TOKEN: STATS_CHAT_TOKEN, HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时', WARN_OVERDUE_CASES: '1', WARN_BAD_RATINGS: '1' };

const H = 3_600_000;

/** A case as the desk stores it, opened `ageHours` ago with `dueHours` to handle it. */
async function addCase(db: Queryable, c: { id: string; unit: string; category: string; type: string; ageHours: number; dueHours: number; closedAfterHours?: number; firstActionAfterHours?: number; level?: number }) {
  const created = new Date(Date.now() - c.ageHours * H);
  await db.query(
    `INSERT INTO cases (id, idempotency_key, citizen_id, citizen_mobile, consent, channel, type, category, description, handling_unit, supervising_unit, status, level, due_at, created_at, closed_at)
     VALUES ($1, $1, $2, '13800000000', true, 'web', $3, $4, '测试诉求', $5, 'zhian', $6, $7, $8, $9, $10)`,
    [c.id, `web:${c.id}`, c.type, c.category, c.unit, c.closedAfterHours === undefined ? 'accepted' : 'closed', c.level ?? 1, new Date(created.getTime() + c.dueHours * H), created, c.closedAfterHours === undefined ? null : new Date(created.getTime() + c.closedAfterHours * H)],
  );
  await db.query("INSERT INTO case_steps (case_id, at, actor, action) VALUES ($1, $2, 'system', '登记')", [c.id, created]);
  if (c.firstActionAfterHours !== undefined) await db.query("INSERT INTO case_steps (case_id, at, actor, action) VALUES ($1, $2, 'zhou', '受理')", [c.id, new Date(created.getTime() + c.firstActionAfterHours * H)]);
}

const rate = (db: Queryable, caseId: string, round: number, rating: string | null) =>
  db.query("INSERT INTO surveys (case_id, round, level, channel, user_id, status, rating, answered_at) VALUES ($1, $2, $2, 'web', $1, $3, $4, now())", [caseId, round, rating ? 'answered' : 'unrated', rating]);

export async function generateStatsTraffic(base: string, db: Queryable): Promise<void> {
  const chat = async (userId: string, text: string) => {
    const res = await fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${STATS_CHAT_TOKEN}` }, body: JSON.stringify({ userId, text }) });
    if (res.status !== 200) throw new Error(`chat ${userId} "${text}": ${res.status}`);
  };
  await chat('a', '办护照要多少钱');
  await chat('b', '身份证丢了怎么补办');
  await chat('b', '转人工');
  await chat('c', '今天股票行情怎么样');
  await addCase(db, { id: 'XA1', unit: 'pcs-renmin', category: '治安', type: '投诉', ageHours: 100, dueHours: 72, closedAfterHours: 24, firstActionAfterHours: 2 });
  await addCase(db, { id: 'XA2', unit: 'pcs-renmin', category: '治安', type: '求助', ageHours: 100, dueHours: 24, closedAfterHours: 48, firstActionAfterHours: 4, level: 2 });
  await addCase(db, { id: 'XA3', unit: 'pcs-binjiang', category: '交通', type: '投诉', ageHours: 50, dueHours: 24, firstActionAfterHours: 10 });
  await addCase(db, { id: 'XA4', unit: 'pcs-binjiang', category: '治安', type: '建议', ageHours: 30, dueHours: 72, closedAfterHours: 6 });
  await rate(db, 'XA1', 1, '满意');
  await rate(db, 'XA2', 1, '不满意');
  await rate(db, 'XA2', 2, '非常满意');
  await rate(db, 'XA4', 1, null);
}
