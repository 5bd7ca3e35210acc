/**
 * What a citizen is owed lives in tables: a survey of a case closed while their chat was
 * closed, and a case number that arrived late, are told once at their next message, even
 * after the context expired or a 重新开始. And an expired case draft is purged from the
 * stored state (no raw mobile kept).
 */
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseEvents } from '../../../bot/cases/events.ts';
import { purgeExpiredDrafts } from '../../../bot/store/conversations.ts';
import { testStores } from '../../helpers/databases.ts';
import { caseNumber, citizen, silence, textOf, TTL_MINUTES, useEngine } from '../../helpers/engine.ts';

const SURVEY = '请您对这次办理进行评价';
const surveysOf = async (h: ReturnType<typeof useEngine>, userId: string) =>
  (await h.db.query<{ status: string }>(`SELECT status FROM surveys WHERE channel = 'web' AND user_id = $1 ORDER BY id`, [userId])).rows.map((r) => r.status);

describe.each(testStores)('pending work with the built-in desk ($name)', (store) => {
  const h = useEngine(store);
  const as = (userId: string) => citizen(() => h.engine, userId);

  /** A case filed in the chat, then handled and closed at the desk while the chat is closed. */
  async function closedWhileAway(userId: string, complaint: string): Promise<string> {
    const c = as(userId);
    await c.draft(complaint);
    const id = caseNumber(await c.tap('case:submit'))!;
    await close(id);
    return id;
  }
  async function close(id: string): Promise<void> {
    for (const action of ['accept', 'reply', 'close'] as const) await h.engine.desk!.act(id, action, 'staff-1', action === 'reply' ? '已联系经营者整改，夜间噪音已消除。' : undefined);
    const closed = (await h.engine.cases.getCase(id))!;
    const events = new CaseEvents(h.db, h.engine);
    expect(await events.handle({ eventId: `${id}:closed`, type: 'case.closed', caseId: id, at: new Date().toISOString(), case: closed })).toBe('handled');
  }

  it('asks for the rating of a case closed while no chat was open, after the context expired, exactly once', async () => {
    const c = as('owed-survey');
    const id = await closedWhileAway(c.userId, '我要投诉楼下KTV每天半夜噪音扰民，严重影响休息');
    expect(h.pushed.get(c.userId)).toBeUndefined();
    expect(await surveysOf(h, c.userId)).toEqual(['pending']);

    await silence(h.db, c.userId, TTL_MINUTES + 5);
    const back = await c.say('无犯罪记录证明要多少钱');
    expect(textOf(back)).toContain('无犯罪记录证明开具');
    expect(textOf(back)).toContain(`编号 ${id}`);
    expect(textOf(back)).toContain(SURVEY);
    expect(back.conversation.state).toBe('awaiting_rating');
    expect(await surveysOf(h, c.userId)).toEqual(['asked']);

    // Asked once: another question, and another expiry, do not ask it again.
    const next = await c.say('身份证丢了怎么办');
    expect(textOf(next)).not.toContain(SURVEY);
    await silence(h.db, c.userId, TTL_MINUTES + 5);
    expect(textOf(await c.say('你好'))).not.toContain(SURVEY);
  });

  it('asks it after 重新开始 too, and the rating is recorded', async () => {
    const c = as('owed-survey-restart');
    await closedWhileAway(c.userId, '我要举报小区门口有人长期占道摆摊卖假货');
    const restarted = await c.say('重新开始');
    expect(textOf(restarted)).toContain(SURVEY);
    expect(textOf(await c.tap('rate:满意'))).toContain('感谢您的评价');
    expect(await surveysOf(h, c.userId)).toEqual(['answered']);
  });

  it('does not push a survey into a case draft in progress: it waits, then is asked', async () => {
    const c = as('owed-survey-drafting');
    await c.draft('我要投诉派出所门口车辆乱停乱放，堵塞消防通道');
    const id = caseNumber(await c.tap('case:submit'))!;
    // A second draft is under way, in an open chat, when the first case closes.
    h.openChats.add(c.userId);
    await c.say('我要举报小区门口有人长期占道摆摊卖假货');
    await close(id);
    expect(h.pushed.get(c.userId)).toBeUndefined();
    expect(await surveysOf(h, c.userId)).toEqual(['pending']);
    await c.tap('case:skip');
    await c.say('13812345678');
    await c.tap('case:skip');
    const summary = await c.tap('case:consent:yes');
    expect(textOf(summary)).not.toContain(SURVEY);
    const done = await c.tap('case:submit');
    expect(textOf(done)).toContain('已为您登记诉求');
    expect(textOf(done)).toContain(`编号 ${id}`);
    expect(textOf(done)).toContain(SURVEY);
    expect(await surveysOf(h, c.userId)).toEqual(['asked']);
    h.openChats.delete(c.userId);
  });

  it('purges an expired draft: no raw mobile kept in the stored state', async () => {
    const stale = as('purge-stale');
    await stale.say('我要投诉楼下KTV每天半夜噪音扰民，严重影响休息');
    await stale.tap('case:skip');
    await stale.say('13912345678');
    const live = as('purge-live');
    await live.say('我要投诉楼下KTV每天半夜噪音扰民，严重影响休息');
    await live.tap('case:skip');
    await live.say('13712345678');
    const stateOf = async (userId: string) =>
      JSON.stringify((await h.db.query<{ state: unknown }>(`SELECT state FROM conversations WHERE channel = 'web' AND user_id = $1`, [userId])).rows[0]!.state);
    expect(await stateOf(stale.userId)).toContain('13912345678');

    await silence(h.db, stale.userId, TTL_MINUTES + 1);
    expect(await purgeExpiredDrafts(h.db, new Date(Date.now() - TTL_MINUTES * 60_000))).toBe(1);
    expect(await stateOf(stale.userId)).not.toContain('13912345678');
    expect(await stateOf(stale.userId)).not.toContain('awaiting');
    // A draft still within the TTL is kept, and the engine's own purge finds nothing more.
    expect(await stateOf(live.userId)).toContain('13712345678');
    expect(await h.engine.purgeExpiredDrafts()).toBe(0);
    expect(textOf(await live.say('王先生'))).toContain('同意');
  });
});

const BASE = 'http://platform.test';

describe.each(testStores)('a late case number ($name)', (store) => {
  const h = useEngine(store, { CASE_PLATFORM_URL: BASE, CASE_PLATFORM_KEY: 'k', CASE_CALLBACK_SECRET: 'secret-0123456789abcdef' });
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('is told after an expired context, exactly once', async () => {
    const c = citizen(() => h.engine, 'owed-notice');
    nock(BASE).post('/cases').times(10).reply(503, { error: 'down' });
    await c.draft('我要投诉窗口工作人员态度很差，办居住证一直推诿');
    const provisional = /临时编号 (T\d{6})/.exec(textOf(await c.tap('case:submit')))?.[1];
    expect(provisional).toBeDefined();

    nock.cleanAll();
    nock(BASE)
      .post('/cases')
      .reply(201, { id: 'EXT-42', status: 'submitted', type: '投诉', description: '窗口', round: 1, level: 1, createdAt: new Date().toISOString(), handlingUnit: '督察支队' });
    await h.engine.cases.retryDue(() => new Date(Date.now() + 3_600_000));
    const owed = await h.db.query<{ told_at: Date | null }>(`SELECT told_at FROM pending_notices WHERE user_id = $1`, [c.userId]);
    expect(owed.rows).toEqual([{ told_at: null }]);

    await silence(h.db, c.userId, TTL_MINUTES + 5);
    const next = await c.say('你好');
    expect(textOf(next)).toContain('正式编号 EXT-42');
    expect(textOf(next)).toContain(`临时编号 ${provisional}`);
    expect(next.replies[0]).toMatchObject({ type: 'text', text: expect.stringContaining('EXT-42') });
    const after = await h.db.query<{ told_at: Date | null }>(`SELECT told_at FROM pending_notices WHERE user_id = $1`, [c.userId]);
    expect(after.rows[0]!.told_at).not.toBeNull();

    expect(textOf(await c.say('重新开始'))).not.toContain('EXT-42');
    expect(textOf(await c.say('谢谢'))).not.toContain('EXT-42');
  });

  it('waits while a human has the chat, and is told when it is back with the bot', async () => {
    const c = citizen(() => h.engine, 'owed-notice-handover');
    await c.say('你好');
    await h.engine.setHandedOver('web', c.userId, true);
    await h.engine.notify('web', c.userId, [{ type: 'text', text: '通知：您的诉求已提交成功，正式编号 EXT-77。' }], { keep: true });
    expect(textOf(await c.say('在吗'))).not.toContain('EXT-77');
    await h.engine.setHandedOver('web', c.userId, false);
    expect(textOf(await c.say('你好'))).toContain('EXT-77');
    expect(textOf(await c.say('谢谢'))).not.toContain('EXT-77');
  });
});
