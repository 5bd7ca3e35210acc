import { afterEach, describe, expect, it } from 'vitest';
import { CaseDesk, DeskError, similarity } from '../../../integrations/case-platform/desk/desk.ts';
import { loadRouting } from '../../../integrations/case-platform/desk/router.ts';
import { searchCases } from '../../../integrations/case-platform/desk/case-search.ts';
import { scopeOf } from '../../../integrations/case-platform/desk/scope.ts';
import type { CaseEvent, NewCase } from '../../../integrations/case-platform/types.ts';
import { testStores } from '../../helpers/databases.ts';

const router = loadRouting();
const complaint = (over: Partial<NewCase> = {}): NewCase => ({
  type: '投诉',
  description: '楼下KTV每天半夜噪音扰民，严重影响休息，希望派出所管一管。',
  place: '北苑路 12 号',
  citizen: { id: 'web:c1', mobile: '13812345678', consentToContact: true },
  channel: 'web',
  ...over,
});

describe('similarity', () => {
  it('scores the same matter in other words high, another matter low', () => {
    expect(similarity('楼下KTV每天半夜噪音扰民，严重影响休息', '楼下KTV半夜噪音太大扰民，影响休息')).toBeGreaterThanOrEqual(0.5);
    expect(similarity('楼下KTV每天半夜噪音扰民', '身份证办了两个月还没拿到')).toBeLessThan(0.1);
    expect(similarity('楼下KTV每天半夜噪音扰民', '小区门口电动车乱停放，把消防通道堵了')).toBeLessThan(0.2);
  });
});

describe.each(testStores)('case desk on $name', (store) => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(async () => cleanup());
  const open = async (events: CaseEvent[] = []) => {
    const s = await store.open();
    cleanup = s.cleanup;
    let t = Date.parse('2026-11-23T09:00:00Z');
    const clock = { advance: (h: number) => (t += h * 3_600_000) };
    const desk = new CaseDesk(s.db, router, { now: () => new Date(t), onEvent: async (e) => void events.push(e) });
    return { desk, clock, db: s.db };
  };

  it('routes a new case, numbers it, records the step, and the same key never makes a second case', async () => {
    const { desk } = await open();
    const c = await desk.create(complaint(), 'k1');
    expect(c).toMatchObject({ status: 'submitted', type: '投诉', category: '治安', handlingUnit: '北苑派出所', supervisingUnit: '市公安局治安管理支队', round: 1, level: 1 });
    expect(c.id).toMatch(/^XA20261123\d{4}$/);
    expect(c.dueAt).toBe('2026-11-25T09:00:00.000Z');
    expect(c.steps?.[0]).toMatchObject({ actor: 'system', action: '登记' });
    expect((await desk.create(complaint(), 'k1')).id).toBe(c.id);
    expect(await desk.listForCitizen('web:c1')).toHaveLength(1);
  });

  it('adds a repeat from the same citizen to their open case; another citizen\'s repeat is their own case, linked', async () => {
    const { desk } = await open();
    const first = await desk.create(complaint(), 'k1');
    const again = await desk.create(complaint({ description: '楼下KTV半夜噪音太大扰民，影响休息，还是没人管。' }), 'k2');
    expect(again).toMatchObject({ id: first.id, repeatOf: first.id });
    const neighbour = await desk.create(
      complaint({ citizen: { id: 'web:c2', mobile: '13900000000', name: '李四', consentToContact: true }, description: '北苑路楼下KTV每天半夜噪音扰民，影响休息。' }),
      'k3',
    );
    // B's own case, handled with A's: same unit and due date, its own number.
    expect(neighbour.id).not.toBe(first.id);
    expect(neighbour).toMatchObject({ repeatOf: first.id, handlingUnit: first.handlingUnit, dueAt: first.dueAt, status: 'submitted' });
    expect((await desk.listForCitizen('web:c2')).map((c) => c.id)).toEqual([neighbour.id]);
    expect((await desk.listForCitizen('web:c1')).map((c) => c.id)).toEqual([first.id]);
    // A's case names B's case for staff, never B's words, name or number in a citizen-facing field.
    const a = (await desk.get(first.id))!;
    expect(JSON.stringify(a)).not.toContain('北苑路楼下');
    expect(JSON.stringify(a)).not.toContain('13900000000');
    expect(JSON.stringify(a)).not.toContain('李四');
    expect(a.steps!.find((s) => s.action === '并案')!.note).toContain(neighbour.id);
    const other = await desk.create(complaint({ description: '小区门口电动车乱停放，把消防通道堵了。', place: '北苑路 30 号' }), 'k4');
    expect(other.repeatOf).toBeUndefined();
    expect(a.steps!.filter((s) => s.action === '重复诉求')).toHaveLength(1);
  });

  it('handles linked repeats with their case: each is replied to and closed, each announced on its own', async () => {
    const events: CaseEvent[] = [];
    const { desk } = await open(events);
    const first = await desk.create(complaint(), 'k1');
    const neighbour = await desk.create(
      complaint({ citizen: { id: 'web:c2', mobile: '13900000000', consentToContact: true }, description: '北苑路楼下KTV每天半夜噪音扰民，影响休息。' }),
      'k2',
    );
    await desk.act(first.id, 'accept', 'handler:张警官');
    await desk.act(first.id, 'reply', 'handler:张警官', '已责令KTV夜间停业整改。');
    await desk.act(first.id, 'close', 'handler:张警官');
    const b = (await desk.get(neighbour.id))!;
    expect(b).toMatchObject({ status: 'closed', reply: '已责令KTV夜间停业整改。' });
    expect(b.steps!.map((s) => s.action)).toEqual(['登记', '并案', '受理', '答复', '办结']);
    expect(events.filter((e) => e.caseId === neighbour.id).map((e) => e.type)).toEqual(['case.accepted', 'case.replied', 'case.closed']);
    expect(events.filter((e) => e.caseId === first.id)).toHaveLength(3);
    // A repeat already ahead (closed) is left alone when the first case is escalated and redone.
    await desk.escalate(first.id, 2, '不满意');
    await desk.act(first.id, 'accept', 'handler:张警官');
    expect((await desk.get(neighbour.id))!.status).toBe('closed');
  });

  it("masks numbers in the citizen's words and keeps the contact field as given", async () => {
    const { desk, db } = await open();
    const c = await desk.create(complaint({ description: '有人冒用我的身份证 110101 1990 0307 1234 办了手机卡，对方电话 139.1234.5678。' }), 'k-mask');
    expect(c.description).not.toMatch(/1990|1234\.5678/);
    expect(c.description).toContain('110101********1234');
    const { rows } = await db.query<{ description: string; citizen_mobile: string }>('SELECT description, citizen_mobile FROM cases WHERE id = $1', [c.id]);
    expect(rows[0]!.description).not.toContain('0307');
    expect(rows[0]!.citizen_mobile).toBe('13812345678');
  });

  it('moves through accept, reply and close with every step recorded, announcing each change', async () => {
    const events: CaseEvent[] = [];
    const { desk } = await open(events);
    const c = await desk.create(complaint(), 'k1');
    await desk.act(c.id, 'accept', 'handler:张警官');
    await expect(desk.act(c.id, 'close', 'handler:张警官')).rejects.toMatchObject({ status: 409 });
    await expect(desk.act(c.id, 'reply', 'handler:张警官')).rejects.toMatchObject({ status: 400 });
    await desk.act(c.id, 'reply', 'handler:张警官', '已联系KTV经营者，要求22点后降低音量。');
    const closed = await desk.act(c.id, 'close', 'handler:张警官');
    expect(closed).toMatchObject({ status: 'closed', reply: '已联系KTV经营者，要求22点后降低音量。' });
    expect(closed.steps!.map((s) => `${s.actor}/${s.action}`)).toEqual(['system/登记', 'handler:张警官/受理', 'handler:张警官/答复', 'handler:张警官/办结']);
    expect(events.map((e) => e.type)).toEqual(['case.accepted', 'case.replied', 'case.closed']);
    expect(events[2]).toMatchObject({ eventId: `${c.id}:1:closed`, caseId: c.id, case: { status: 'closed' } });
  });

  it('lets only one of two simultaneous closes succeed', async () => {
    const events: CaseEvent[] = [];
    const { desk } = await open(events);
    const c = await desk.create(complaint(), 'k1');
    await desk.act(c.id, 'accept', 'a');
    await desk.act(c.id, 'reply', 'a', '已处理。');
    const results = await Promise.allSettled([desk.act(c.id, 'close', 'a'), desk.act(c.id, 'close', 'b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(DeskError);
    expect(events.filter((e) => e.type === 'case.closed')).toHaveLength(1);
  });

  it('takes one rating per round and escalates through three levels', async () => {
    const { desk } = await open();
    const c = await desk.create(complaint(), 'k1');
    await desk.feedback(c.id, 1, '不满意', '噪音还在');
    await expect(desk.feedback(c.id, 1, '满意')).rejects.toMatchObject({ status: 409 });
    await expect(desk.feedback(c.id, 2, '很好' as never)).rejects.toMatchObject({ status: 400 });
    const l2 = await desk.escalate(c.id, 2, '群众不满意：噪音还在');
    expect(l2).toMatchObject({ level: 2, round: 2, status: 'submitted' });
    await expect(desk.escalate(c.id, 2, 'again')).rejects.toMatchObject({ status: 409 });
    const l3 = await desk.escalate(c.id, 3, '二次差评');
    expect(l3).toMatchObject({ level: 3, round: 3, supervisingUnit: '市公安局领导（纪检督察、法制部门）' });
  });

  it('lists cases not started, in progress and overdue', async () => {
    const { desk, clock } = await open();
    const a = await desk.create(complaint(), 'k1');
    const b = await desk.create(complaint({ description: '建议出入境大厅周六延长办公时间，方便上班族。', type: '建议', place: undefined, citizen: { id: 'web:c9', mobile: '13700000000', consentToContact: false } }), 'k2');
    await desk.act(b.id, 'accept', 'x');
    let lists = await desk.lists();
    expect(lists.notStarted.map((c) => c.id)).toEqual([a.id]);
    expect(lists.inProgress.map((c) => c.id)).toEqual([b.id]);
    expect(lists.overdue).toEqual([]);
    clock.advance(49);
    lists = await desk.lists();
    expect(lists.overdue.map((c) => c.id)).toEqual([a.id]);
  });

  it('transfers with its repeats, keeps the due date, searches and counts by scope, and announces each change after commit', async () => {
    const { desk, clock, db } = await open();
    const changes: string[] = [];
    desk.changes.subscribe((c) => changes.push(`${c.caseId}:${c.action}:${c.handlingUnit}`));
    const a = await desk.create(complaint(), 'k1');
    const b = await desk.create(complaint({ citizen: { id: 'web:c2', mobile: '13900001234', consentToContact: true }, description: '北苑路楼下KTV每天半夜噪音扰民，影响休息。' }), 'k2');
    expect(b.repeatOf).toBe(a.id);
    const beiyuan = scopeOf({ username: 'h', roles: ['handler'], unit: 'pcs-beiyuan' }, router);
    const binjiang = scopeOf({ username: 'q', roles: ['handler'], unit: 'pcs-binjiang' }, router);
    const now = () => new Date(Date.parse('2026-11-23T09:00:00Z'));
    expect((await searchCases(db, router, beiyuan, {}, { me: 'h', now: now() })).total).toBe(2);
    expect((await searchCases(db, router, beiyuan, { q: '1234' }, { me: 'h', now: now() })).items.map((c) => c.id)).toEqual([b.id]);

    await desk.act(a.id, 'accept', 'staff:h', undefined, { assignTo: 'h' });
    expect((await searchCases(db, router, beiyuan, { mine: true }, { me: 'h', now: now() })).items.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
    clock.advance(1);
    const moved = await desk.transfer(a.id, 'pcs-binjiang', '辖区有误', 'staff:h');
    expect(moved).toMatchObject({ status: 'submitted', handlingUnit: '滨江派出所', dueAt: a.dueAt });
    expect((await searchCases(db, router, beiyuan, {}, { me: 'h', now: now() })).total).toBe(0);
    const there = await searchCases(db, router, binjiang, {}, { me: 'q', now: now() });
    expect(there.items.map((c) => [c.id, c.assignee, c.handlingUnitId])).toEqual([
      [a.id, null, 'pcs-binjiang'],
      [b.id, null, 'pcs-binjiang'],
    ]);
    expect(there.counts).toMatchObject({ notStarted: 2, mine: 0 });
    await expect(desk.transfer(a.id, 'pcs-binjiang', '再转', 'staff:q')).rejects.toMatchObject({ status: 409 });
    await expect(desk.transfer(a.id, 'dispatcher', ' ', 'staff:q')).rejects.toMatchObject({ status: 400 });
    expect((await desk.transfer(a.id, 'dispatcher', '不属本所', 'staff:q')).handlingUnit).toBe('市公安局政务服务中心');
    // Internal steps stay with staff: the citizen's own list leaves them out.
    expect((await desk.listForCitizen('web:c1'))[0]!.steps!.map((s) => s.action)).not.toEqual(expect.arrayContaining(['转办', '退回', '指派']));
    expect(changes).toEqual(expect.arrayContaining([`${a.id}:登记:pcs-beiyuan`, `${a.id}:转办:pcs-binjiang`, `${b.id}:转办:pcs-binjiang`, `${a.id}:退回:zwzx`]));

    // A question to the citizen and its answer, once.
    const asked = await desk.requestInfo(b.id, '请问KTV的名字？', 'staff:z');
    expect(await desk.answerInfo(b.id, asked.request.id, '好乐迪，电话 13812345678')).toBe(true);
    expect(await desk.answerInfo(b.id, asked.request.id, '再说一遍')).toBe(false);
    const [request] = await desk.infoRequests(db, b.id);
    expect(request).toMatchObject({ question: '请问KTV的名字？', answer: expect.stringContaining('好乐迪') });
    expect(request!.answer).not.toContain('13812345678');
  });
});
