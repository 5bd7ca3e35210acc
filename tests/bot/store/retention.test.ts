import { afterEach, describe, expect, it } from 'vitest';
import { applyRetention } from '../../../bot/store/retention.ts';
import { testStores } from '../../helpers/databases.ts';

const DAY = 86_400_000;

describe.each(testStores)('retention on $name', (store) => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(() => cleanup());

  it('deletes personal data past RETENTION_DAYS, clears old closed cases\' contacts, keeps what is recent and the audit log', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const { db } = s;
    const now = new Date('2026-12-01T00:00:00Z');
    const old = new Date(now.getTime() - 200 * DAY).toISOString();
    const recent = new Date(now.getTime() - 10 * DAY).toISOString();

    const conv = async (user: string, at: string) =>
      Number((await db.query<{ id: string }>(`INSERT INTO conversations (channel, user_id, updated_at) VALUES ('web', $1, $2) RETURNING id`, [user, at])).rows[0]!.id);
    const oldConv = await conv('old', old);
    const activeConv = await conv('active', recent);
    await conv('idle', old);
    await db.query(`INSERT INTO messages (conversation_id, direction, kind, text, at) VALUES ($1, 'in', 'text', '旧消息', $2), ($3, 'in', 'text', '旧的', $2), ($3, 'in', 'text', '新消息', $4)`, [
      oldConv,
      old,
      activeConv,
      recent,
    ]);
    await db.query(
      `INSERT INTO question_log (asked_at, channel, text, normalized, intent, latency_ms) VALUES ($1, 'web', '旧问题', '旧问题', 'answer', 1), ($2, 'web', '新问题', '新问题', 'answer', 1)`,
      [old, recent],
    );
    await db.query(`INSERT INTO handled_messages (channel, message_id, at) VALUES ('wecom', 'm-old', $1), ('wecom', 'm-new', $2)`, [old, recent]);
    await db.query(`INSERT INTO pending_notices (channel, user_id, replies, told_at) VALUES ('web', 'a', '[]', $1), ('web', 'a', '[]', NULL)`, [old]);
    await db.query(`INSERT INTO wecom_seen (msgid, at) VALUES ('w-old', $1), ('w-new', $2)`, [old, recent]);
    await db.query(`INSERT INTO citizen_sessions (token_hash, user_id, last_seen_at) VALUES ('h-old', 'w-old', $1), ('h-new', 'w-new', $2)`, [
      new Date(now.getTime() - 40 * DAY).toISOString(),
      recent,
    ]);
    await db.query(`INSERT INTO outbox (kind, idempotency_key, payload, status, updated_at) VALUES ('feedback', 'o-old', '{}', 'done', $1), ('feedback', 'o-wait', '{}', 'pending', $1)`, [old]);
    const kase = (id: string, status: string, closedAt: string | null) =>
      db.query(
        `INSERT INTO cases (id, idempotency_key, citizen_id, citizen_mobile, citizen_name, consent, type, category, description, handling_unit, supervising_unit, status, due_at, closed_at)
         VALUES ($1, $1, 'web:x', '13812345678', '张三', true, '投诉', '治安', '楼下噪音扰民很久了没人管', 'u1', 'u2', $2, now(), $3)`,
        [id, status, closedAt],
      );
    await kase('XA-OLD', 'closed', old);
    await kase('XA-RECENT', 'closed', recent);
    await kase('XA-OPEN', 'in_progress', null);
    await db.query(`INSERT INTO audit_log (at, actor, action) VALUES ($1, 'staff:a', 'login')`, [old]);

    const report = await applyRetention(db, 180, now);
    expect(report).toMatchObject({ messages: 2, questions: 1, handledMessages: 1, outbox: 1, citizenSessions: 1, casesCleared: 1, wecomSeen: 1, notices: 1 });
    expect(report.conversations).toBeGreaterThanOrEqual(2);

    const texts = (await db.query<{ text: string }>('SELECT text FROM messages')).rows.map((r) => r.text);
    expect(texts).toEqual(['新消息']);
    expect((await db.query<{ text: string }>('SELECT text FROM question_log')).rows.map((r) => r.text)).toEqual(['新问题']);
    expect((await db.query<{ message_id: string }>('SELECT message_id FROM handled_messages')).rows.map((r) => r.message_id)).toEqual(['m-new']);
    expect((await db.query<{ user_id: string }>('SELECT user_id FROM citizen_sessions')).rows.map((r) => r.user_id)).toEqual(['w-new']);
    expect((await db.query<{ idempotency_key: string }>('SELECT idempotency_key FROM outbox')).rows.map((r) => r.idempotency_key)).toEqual(['o-wait']);
    const users = (await db.query<{ user_id: string }>('SELECT user_id FROM conversations ORDER BY user_id')).rows.map((r) => r.user_id);
    expect(users).toContain('active');
    expect(users).not.toContain('idle');
    expect(users).not.toContain('old');

    const cases = (await db.query<{ id: string; citizen_mobile: string; citizen_name: string | null; description: string }>('SELECT id, citizen_mobile, citizen_name, description FROM cases ORDER BY id')).rows;
    expect(cases).toEqual([
      { id: 'XA-OLD', citizen_mobile: '', citizen_name: null, description: '楼下噪音扰民很久了没人管' },
      { id: 'XA-OPEN', citizen_mobile: '13812345678', citizen_name: '张三', description: '楼下噪音扰民很久了没人管' },
      { id: 'XA-RECENT', citizen_mobile: '13812345678', citizen_name: '张三', description: '楼下噪音扰民很久了没人管' },
    ]);
    expect(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]!.n)).toBe(1);
    // Run again: nothing more to do.
    expect(Object.values(await applyRetention(db, 180, now)).every((n) => n === 0)).toBe(true);
  });
});
