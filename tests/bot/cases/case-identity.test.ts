/**
 * A case has an identity of its own (its draft's id): a case after 重新开始 or after the
 * context expired is a new case, a repeated 确认 of one draft is that one case, and a draft
 * much like a case submitted minutes ago is asked about before it is submitted.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../../../bot/store/database.ts';
import { testStores } from '../../helpers/databases.ts';
import { caseNumber, citizen, silence, textOf, TTL_MINUTES, useEngine } from '../../helpers/engine.ts';

const KTV = '我要投诉楼下KTV每天半夜噪音扰民，严重影响休息';
const STALL = '我要举报小区门口有人长期占道摆摊卖假货';
const KTV_AGAIN = '我要投诉楼下KTV每天半夜噪音扰民，吵得睡不着';

const casesOf = async (db: Database, userId: string) =>
  (await db.query<{ id: string }>('SELECT id FROM cases WHERE citizen_id = $1 ORDER BY id', [`web:${userId}`])).rows.map((r) => r.id);
const submissionsOf = async (db: Database, userId: string) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE kind = 'create_case' AND payload ->> 'userId' = $1`, [userId])).rows[0]!.n);

describe.each(testStores)('a case has an identity of its own ($name)', (store) => {
  const h = useEngine(store);
  const as = (userId: string) => citizen(() => h.engine, userId);

  it('makes two cases around 重新开始: two numbers, two rows', async () => {
    const c = as('id-restart');
    await c.draft(KTV);
    const first = caseNumber(await c.tap('case:submit'));
    expect(textOf(await c.say('重新开始'))).toContain('重新开始');
    await c.draft(STALL);
    const second = await c.tap('case:submit');
    expect(textOf(second)).toContain('已为您登记诉求');
    expect(caseNumber(second)).toBeDefined();
    expect(caseNumber(second)).not.toBe(first);
    expect(await casesOf(h.db, c.userId)).toEqual([first, caseNumber(second)].sort());
  });

  it('makes two cases around an expired context', async () => {
    const c = as('id-expiry');
    await c.draft(KTV);
    const first = caseNumber(await c.tap('case:submit'));
    await silence(h.db, c.userId, TTL_MINUTES + 1);
    await c.draft(STALL);
    const second = caseNumber(await c.tap('case:submit'));
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(await casesOf(h.db, c.userId)).toHaveLength(2);
  });

  it('makes one case of a double 确认, tapped twice, replayed after a lost save, or sent to two processes at once', async () => {
    // Twice in a row: the second tap finds no draft, and submits nothing.
    const a = as('id-double');
    const summary = await a.draft(KTV);
    expect(textOf(summary)).toContain('请确认您的诉求');
    const first = caseNumber(await a.tap('case:submit'));
    expect(first).toBeDefined();
    await a.tap('case:submit');
    expect(await casesOf(h.db, a.userId)).toEqual([first]);

    // The same draft confirmed again (its turn's save was lost): the same case, not "a new matter?".
    const b = as('id-replay');
    await b.draft(STALL);
    const saved = (await h.db.query<{ state: unknown }>(`SELECT state FROM conversations WHERE channel = 'web' AND user_id = $1`, [b.userId])).rows[0]!.state;
    const once = caseNumber(await b.tap('case:submit'));
    await h.db.query(`UPDATE conversations SET state = $2 WHERE channel = 'web' AND user_id = $1`, [b.userId, JSON.stringify(saved)]);
    const again = await b.tap('case:submit');
    expect(caseNumber(again)).toBe(once);
    expect(textOf(again)).not.toContain('新的问题吗');
    expect(await casesOf(h.db, b.userId)).toEqual([once]);

    // Two processes sharing the store get the same tap at once.
    const c = as('id-race');
    await c.draft(KTV);
    const other = h.secondEngine();
    const [one, two] = await Promise.all([c.tap('case:submit'), other.handle({ channel: 'web', userId: c.userId, kind: 'menu', menuId: 'case:submit' })]);
    expect(textOf(one) + textOf(two)).toMatch(/编号/);
    expect(await casesOf(h.db, c.userId)).toHaveLength(1);
    expect(await submissionsOf(h.db, c.userId)).toBe(1);
  });

  it('asks whether a similar case minutes after the first is a new matter; 不用了 submits nothing', async () => {
    const c = as('id-similar-same');
    await c.draft(KTV);
    const first = caseNumber(await c.tap('case:submit'))!;
    await c.say('重新开始');
    await c.draft(KTV_AGAIN);
    const asked = await c.tap('case:submit');
    expect(textOf(asked)).toContain(`相似的诉求（编号 ${first}）`);
    expect(asked.conversation.state).toBe('awaiting_case');
    const menu = asked.replies.find((r) => r.type === 'menu');
    expect(menu?.type === 'menu' && menu.items.map((i) => i.label)).toEqual(['是新问题，继续提交', '不用了，是同一件事']);

    const same = await c.say('不用了，是同一件事');
    expect(textOf(same)).toContain(`不再重复提交。您之前登记的诉求编号 ${first}`);
    expect(same.conversation.state).not.toBe('awaiting_case');
    expect(await submissionsOf(h.db, c.userId)).toBe(1);
    expect(await casesOf(h.db, c.userId)).toEqual([first]);
  });

  it('asks the same, and 是新问题 submits it', async () => {
    const c = as('id-similar-new');
    await c.draft(KTV);
    const first = caseNumber(await c.tap('case:submit'))!;
    await silence(h.db, c.userId, TTL_MINUTES + 1);
    await c.draft(KTV_AGAIN);
    const asked = await c.tap('case:submit');
    expect(textOf(asked)).toContain('这次反映的是新的问题吗');
    const item = asked.replies.flatMap((r) => (r.type === 'menu' ? r.items : [])).find((i) => i.label === '是新问题，继续提交')!;
    const submitted = await c.tap(item.id);
    // Submitted: the desk itself adds the same citizen's repeat to the open case.
    expect(textOf(submitted)).toMatch(/编号 XA\d+/);
    expect(textOf(submitted)).not.toContain('新的问题吗');
    expect(submitted.conversation.state).not.toBe('awaiting_case');
    expect(await submissionsOf(h.db, c.userId)).toBe(2);
    expect((await casesOf(h.db, c.userId))[0]).toBe(first);
  });

  it('does not ask about a different matter, nor about a case from another citizen', async () => {
    const a = as('id-other-a');
    await a.draft(KTV);
    await a.tap('case:submit');
    const b = as('id-other-b');
    await b.draft(KTV);
    expect(textOf(await b.tap('case:submit'))).not.toContain('新的问题吗');
    await a.say('重新开始');
    await a.draft(STALL);
    expect(textOf(await a.tap('case:submit'))).toContain('已为您登记诉求');
  });
});
