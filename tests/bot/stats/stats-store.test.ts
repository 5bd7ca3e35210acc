/**
 * The statistics' queries on each store (PGlite, and PostgreSQL in CI): conversations split
 * by a 30-minute silence, self-service resolution (a hand-over, a case or the same item asked
 * again within 72 h each spoil it), questions by channel and category, cases and ratings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../bot/store/database.ts';
import { computeStats, questionRows, type StatsContext } from '../../../bot/stats/stats.ts';
import { EVERY_CASE } from '../../../integrations/case-platform/desk/scope.ts';
import { loadRouting } from '../../../integrations/case-platform/desk/router.ts';
import { testStores } from '../../helpers/databases.ts';

const H = 3_600_000;
const T0 = new Date('2026-11-02T02:00:00Z'); // 10:00 in Asia/Shanghai

describe.each(testStores)('统计 on $name', (store) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await store.open());
  });
  afterAll(() => cleanup?.());

  /** A citizen's message at T0 + minutes, and the question it was (when it was one). */
  const say = async (conversation: number, minutes: number, q?: { intent: string; item?: string; confidence?: number }) => {
    const at = new Date(T0.getTime() + minutes * 60_000);
    await db.query("INSERT INTO messages (conversation_id, direction, kind, text, at) VALUES ($1, 'in', 'text', '问题', $2)", [conversation, at]);
    await db.query("INSERT INTO messages (conversation_id, direction, kind, text, at) VALUES ($1, 'out', 'text', '答复', $2)", [conversation, at]);
    if (q) {
      await db.query(
        `INSERT INTO question_log (asked_at, channel, text, normalized, intent, item_id, candidates, confidence, latency_ms, conversation_id)
         VALUES ($1, (SELECT channel FROM conversations WHERE id = $2), '问题', '问题', $3, $4, $5, $6, 5, $2)`,
        [at, conversation, q.intent, q.item ?? null, JSON.stringify(q.item ? [{ id: q.item, score: 0.9 }] : []), q.confidence ?? 0.9],
      );
    }
  };

  it('counts conversations, self-service, questions, cases and ratings as defined', async () => {
    const ids: number[] = [];
    for (const [channel, user] of [['web', 'u1'], ['web', 'u2'], ['wecom', 'u3'], ['web', 'u4']]) {
      ids.push(Number((await db.query<{ id: string }>('INSERT INTO conversations (channel, user_id) VALUES ($1, $2) RETURNING id', [channel, user])).rows[0]!.id));
    }
    const [c1, c2, c3, c4] = ids as [number, number, number, number];
    // u1: answered and done; 40 minutes later (a new conversation) asks something else, answered.
    await say(c1, 0, { intent: 'answer', item: 'crj-01' });
    await say(c1, 10);
    await say(c1, 50, { intent: 'answer', item: 'sfz-01' });
    // u2: answered, then a hand-over in the same conversation.
    await say(c2, 0, { intent: 'answer', item: 'sfz-01' });
    await say(c2, 1, { intent: 'handoff' });
    await db.query(`INSERT INTO handoffs (conversation_id, kind, summary, created_at) VALUES ($1, 'handoff', $2, $3)`, [c2, JSON.stringify({ intent: 'handoff', item: { id: 'sfz-01', name: 'x' }, lastQuestions: ['a', 'b'] }), new Date(T0.getTime() + 60_000)]);
    // u3 (WeChat): out of scope, then a case opened.
    await say(c3, 0, { intent: 'out_of_scope', confidence: 0.1 });
    await db.query(
      `INSERT INTO cases (id, idempotency_key, citizen_id, citizen_mobile, consent, channel, type, category, description, handling_unit, supervising_unit, status, due_at, created_at, closed_at)
       VALUES ('XB1', 'XB1', 'wecom:u3', '13800000000', true, 'wecom', '投诉', '治安', 'x', 'pcs-renmin', 'zhian', 'closed', $1, $2, $3)`,
      [new Date(T0.getTime() + 72 * H), new Date(T0.getTime() + 5 * 60_000), new Date(T0.getTime() + 30 * H)],
    );
    await db.query("INSERT INTO surveys (case_id, round, level, channel, user_id, status, rating) VALUES ('XB1', 1, 1, 'wecom', 'u3', 'answered', '非常不满意'), ('XB1', 2, 2, 'wecom', 'u3', 'answered', '满意')");
    // u4: answered, and the same item asked again two days later (not resolved).
    await say(c4, 0, { intent: 'answer', item: 'crj-01' });
    await say(c4, 48 * 60, { intent: 'answer', item: 'crj-01' });

    const s = await computeStats(
      {
        db,
        router: loadRouting(),
        guides: [
          { id: 'crj-01', name: '普通护照首次申领', category: '出入境', department: '出入境' },
          { id: 'sfz-01', name: '居民身份证首次申领', category: '居民身份证', department: '户政' },
          { id: 'jsz-01', name: 'x', category: '机动车驾驶证', department: '车管所' },
        ],
        timeZone: 'Asia/Shanghai',
        scope: EVERY_CASE,
      },
      { from: new Date(T0.getTime() - H), to: new Date(T0.getTime() + 24 * H) },
      new Date(T0.getTime() + 100 * H),
    );
    const svc = s.service!;
    // u1 twice (40 minutes of silence), u2, u3, u4 once in the day (u4's repeat is two days on).
    expect(svc.conversations.total).toBe(5);
    expect(svc.conversations.byChannel).toEqual([{ key: 'web', name: 'web', n: 4 }, { key: 'wecom', name: 'wecom', n: 1 }]);
    expect(svc.conversations.byHour[10]).toBe(5); // 10:00 and 10:50 in Asia/Shanghai
    expect(svc.conversations.byHour.reduce((a, b) => a + b, 0)).toBe(5);
    expect(svc.conversations.byDay).toEqual([{ date: '2026-11-02', n: 5 }]);
    expect(svc.messages.total).toBe(7); // u4's second falls after the period
    // Questions: the 转人工 is no question.
    expect(svc.questions.total).toBe(5);
    expect(svc.questions.byCategory.find((c) => c.key === '出入境')?.n).toBe(2); // u1 and u4 on crj-01
    // Resolved: u1's two conversations; not u2 (hand-over), u3 (case, out of scope), u4 (asked again).
    expect(svc.selfService).toEqual({ conversations: 5, resolved: 2, rate: 40 });
    expect(svc.handover).toEqual({ count: 1, rate: 20, reasons: [{ key: '答复后仍要人工', name: '答复后仍要人工', n: 1 }] });
    expect(svc.unanswered).toMatchObject({ questions: 1, rate: 20 });
    expect(svc.knowledge.neverAsked).toEqual([{ id: 'jsz-01', name: 'x' }]);
    expect(s.cases).toMatchObject({ opened: 1, closed: 1, overdue: 0, onTimeRate: 100, medianCloseHours: 29.9 });
    expect(s.ratings).toMatchObject({ rated: 2, badRatings: 1, putRight: 1, satisfaction: 50 });
    // By channel: WeChat only.
    const w = await computeStats(
      { db, router: loadRouting(), guides: [], timeZone: 'Asia/Shanghai', scope: EVERY_CASE },
      { from: new Date(T0.getTime() - H), to: new Date(T0.getTime() + 24 * H), channel: 'wecom' },
    );
    expect(w.service!.conversations.total).toBe(1);
    expect(w.cases.opened).toBe(1);
  });

  it('marks the questions answered with 都不是 and gives every row its bureau day and hour', async () => {
    const T1 = new Date(T0.getTime() + 10 * 24 * H); // 2026-11-12 10:00 in Asia/Shanghai
    const conv = Number((await db.query<{ id: string }>("INSERT INTO conversations (channel, user_id) VALUES ('web', 'n1') RETURNING id")).rows[0]!.id);
    const ask = async (minutes: number, top: string) => {
      const at = new Date(T1.getTime() + minutes * 60_000);
      await db.query(
        `INSERT INTO question_log (asked_at, channel, text, normalized, intent, item_id, candidates, confidence, latency_ms, conversation_id)
         VALUES ($1, 'web', '问题', '问题', 'clarify', NULL, $2, 0.5, 5, $3)`,
        [at, JSON.stringify([{ id: top, score: 0.5 }]), conv],
      );
    };
    const pickNone = (minutes: number) =>
      db.query("INSERT INTO messages (conversation_id, direction, kind, text, at) VALUES ($1, 'in', 'menu', 'none', $2)", [conv, new Date(T1.getTime() + minutes * 60_000)]);
    await ask(0, 'crj-01'); // answered 都不是
    await pickNone(1);
    await ask(2, 'sfz-01'); // a menu pick, not 都不是
    await ask(14 * 60, 'crj-01'); // 00:00 the next day, answered 都不是 later on
    await pickNone(14 * 60 + 5);
    const ctx: StatsContext = {
      db,
      router: loadRouting(),
      guides: [{ id: 'crj-01', name: '普通护照首次申领', category: '出入境', department: '出入境' }],
      timeZone: 'Asia/Shanghai',
      scope: EVERY_CASE,
    };
    const f = { from: T1, to: new Date(T1.getTime() + 24 * H) };
    const rows = await questionRows(ctx, f);
    expect(rows.map((r) => [r.nearestItem, r.noneOfThese, r.day, r.hour])).toEqual([
      ['crj-01', true, '2026-11-12', 10],
      ['sfz-01', false, '2026-11-12', 10],
      ['crj-01', true, '2026-11-13', 0],
    ]);
    const s = await computeStats(ctx, f, new Date(T1.getTime() + 30 * H));
    expect(s.service!.knowledge.mostNoneOfThese).toEqual([{ key: 'crj-01', name: '普通护照首次申领', n: 2 }]);
    expect(s.service!.questions.byDay).toEqual([{ date: '2026-11-12', n: 2 }, { date: '2026-11-13', n: 1 }]);
  });
});
