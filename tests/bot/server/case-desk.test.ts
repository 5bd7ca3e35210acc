/**
 * The case desk over real HTTP for a working day: every route scoped by the caller's unit in
 * the organisation tree (a 派出所 handler cannot read or act on another unit's case; a 分局
 * sees its 派出所; a supervisor what its units supervise; the bureau and systems all); each
 * action with its steps, audit rows and callbacks; questions to the citizen through the
 * chat with the answer attached; search, filters, pages; live events; the case page's data.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { useTestServer } from '../../helpers/server.ts';
import { eventStream, staffLogin, type StaffClient } from '../../helpers/staff.ts';

const TOKEN = 'staff-token-0123456789';
const CHAT_AUTH = { authorization: 'Bearer chat-token-0123456789' };
const PASSWORD = 'desk-password-1';

const ACCOUNTS: Array<[string, string[], string | null, string]> = [
  ['zhou', ['handler'], 'pcs-renmin', '周警官'],
  ['wu', ['handler'], 'pcs-renmin', '吴警官'],
  ['qian', ['handler'], 'pcs-binjiang', '钱警官'],
  ['fenju', ['handler'], 'fj-zhongxin', '中心区分局'],
  ['zhi', ['supervisor'], 'zhian', '治安督办'],
  ['crjsup', ['supervisor'], 'crj', '出入境督办'],
  ['city', ['handler', 'supervisor'], 'sj', '市局'],
  ['nounit', ['handler'], null, '未分单位'],
];

describe('the case desk for a working day', () => {
  const t = useTestServer({ STAFF_API_TOKEN: TOKEN, CHAT_API_TOKEN: 'chat-token-0123456789' }, async (config) => {
    const db = await openDatabase(config);
    for (const [u, roles, unit, name] of ACCOUNTS) await addStaff(db, u, PASSWORD, roles as never, 'cli', { unit, displayName: name });
    await db.close();
  });
  const staff: Record<string, StaffClient> = {};
  const as = async (u: string) => (staff[u] ??= await staffLogin(t.base, u, PASSWORD));
  const system = async (path: string, body?: unknown) => {
    const res = await fetch(`${t.base}/api/staff/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const chat = async (userId: string, body: Record<string, unknown>) =>
    (await (await fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', ...CHAT_AUTH }, body: JSON.stringify({ userId, ...body }) })).json()) as {
      replies: Array<{ type: string; text?: string; head?: string }>;
    };
  const textOf = (r: { replies: Array<{ text?: string; head?: string }> }) => r.replies.map((x) => x.text ?? x.head).join('\n');
  /** A citizen reports a matter in the chat; the case number they are told. */
  const report = async (userId: string, description: string, place: string, mobile: string) => {
    await chat(userId, { text: `我要投诉，${description}` });
    await chat(userId, { text: place });
    await chat(userId, { text: mobile });
    await chat(userId, { menuId: 'case:skip' });
    await chat(userId, { menuId: 'case:consent:yes' });
    const done = textOf(await chat(userId, { menuId: 'case:submit' }));
    const id = /编号 (XA\d+)/.exec(done)?.[1];
    if (!id) throw new Error(done);
    return id;
  };
  const ids = (page: { items: Array<{ id: string }> }) => {
    if (!page?.items) throw new Error(JSON.stringify(page));
    return page.items.map((c) => c.id);
  };
  const audit = async (action: string, actor: string) =>
    (await t.server.db.query<{ target: string; outcome: string; details: Record<string, unknown> }>('SELECT target, outcome, details FROM audit_log WHERE action = $1 AND actor = $2 ORDER BY id', [action, actor])).rows;
  const callbacks = async (caseId: string) => (await t.server.db.query<{ type: string }>('SELECT type FROM callback_events WHERE case_id = $1 ORDER BY received_at', [caseId])).rows.map((r) => r.type);

  let renmin = '';
  let binjiang = '';
  let passport = '';

  it('scopes every route by the unit tree: own unit, the units below, what one supervises, or all', async () => {
    renmin = await report('c-renmin', '人民路的KTV每天半夜噪音扰民，严重影响休息', '人民路 8 号', '13800001111');
    binjiang = await report('c-binjiang', '滨江大道的酒吧每天半夜噪音扰民，吵得睡不着', '滨江大道 3 号', '13900002222');
    passport = (await t.server.engine.desk!.create(
      { type: '咨询', description: '护照签注办理很慢，出入境网站一直打不开', citizen: { id: 'web:c-crj', mobile: '13700003333', consentToContact: false } },
      'desk-test-passport',
    )).id;
    expect((await system(`cases/${renmin}`)).body).toMatchObject({ handlingUnitId: 'pcs-renmin', supervisingUnitId: 'zhian' });
    expect((await system(`cases/${binjiang}`)).body).toMatchObject({ handlingUnitId: 'pcs-binjiang' });
    expect((await system(`cases/${passport}`)).body).toMatchObject({ handlingUnitId: 'crj' });

    const seen = async (u: string) => ids((await (await as(u)).get('/api/staff/cases/search?status=all&pageSize=100')).body);
    expect(await seen('zhou')).toEqual([renmin]);
    expect(await seen('qian')).toEqual([binjiang]);
    // The 分局 sees its 派出所; the 治安 supervisor the cases it supervises; the bureau everything.
    expect(await seen('fenju')).toEqual([renmin]);
    expect((await seen('zhi')).sort()).toEqual([renmin, binjiang].sort());
    expect(await seen('crjsup')).toEqual([passport]);
    expect((await seen('city')).sort()).toEqual([renmin, binjiang, passport].sort());
    expect(await seen('nounit')).toEqual([]);
    expect(ids((await system('cases/search?status=all')).body).sort()).toEqual([renmin, binjiang, passport].sort());
    // The documented lists are scoped the same way.
    const lists = (await (await as('zhou')).get('/api/staff/cases')).body;
    expect(lists.notStarted.map((c: { id: string }) => c.id)).toEqual([renmin]);
    expect((await system('cases')).body.notStarted).toHaveLength(3);

    // Another unit's case does not exist for zhou: reading, revealing, acting.
    const zhou = await as('zhou');
    expect((await zhou.get(`/api/staff/cases/${binjiang}`)).status).toBe(404);
    expect((await zhou.get(`/api/staff/cases/${binjiang}/conversation`)).status).toBe(404);
    expect((await zhou.post(`/api/staff/cases/${binjiang}/contact`)).status).toBe(404);
    for (const [action, body] of [['accept', {}], ['note', { note: '看看' }], ['transfer', { unit: 'pcs-renmin', reason: '想要' }], ['request-info', { question: '在吗' }]] as const) {
      expect((await zhou.post(`/api/staff/cases/${binjiang}/${action}`, body)).status, action).toBe(404);
    }
    expect((await system(`cases/${binjiang}`)).body.status).toBe('submitted');
    expect((await audit('case.view', 'zhou')).find((r) => r.target === binjiang)).toMatchObject({ outcome: 'denied' });
    expect((await audit('case.accept', 'zhou')).find((r) => r.target === binjiang)).toMatchObject({ outcome: 'denied' });
    // A supervisor sees and reveals, but does not act; a 分局 handler may act on its 派出所's case.
    const zhi = await as('zhi');
    expect((await zhi.get(`/api/staff/cases/${renmin}`)).body.can).toEqual({ work: false });
    expect((await zhi.post(`/api/staff/cases/${renmin}/accept`)).status).toBe(403);
    expect((await (await as('fenju')).get(`/api/staff/cases/${renmin}`)).body.can).toEqual({ work: true });
    expect((await (await as('crjsup')).get(`/api/staff/cases/${renmin}`)).status).toBe(404);
  });

  it('shows the case page: masked contact, an audited reveal, consent, channel, the conversation masked', async () => {
    const zhou = await as('zhou');
    const c = (await zhou.get(`/api/staff/cases/${renmin}`)).body;
    expect(c).toMatchObject({
      contactMasked: { mobile: '138****1111', name: null },
      consentToContact: true,
      channel: 'api',
      place: '人民路 8 号',
      assignee: null,
      sla: 'on_time',
      can: { work: true },
      actors: { system: '系统' },
    });
    expect(JSON.stringify(c)).not.toContain('13800001111');
    const contact = (await zhou.post(`/api/staff/cases/${renmin}/contact`)).body;
    expect(contact).toMatchObject({ mobile: '13800001111', consentToContact: true });
    expect((await audit('case.contact', 'zhou')).map((r) => r.target)).toContain(renmin);
    const conversation = (await zhou.get(`/api/staff/cases/${renmin}/conversation`)).body.messages as Array<{ direction: string; text: string }>;
    expect(conversation.some((m) => m.direction === 'in' && m.text.includes('人民路的KTV'))).toBe(true);
    expect(conversation.some((m) => m.direction === 'in' && m.text.includes('138****1111'))).toBe(true);
    expect(JSON.stringify(conversation)).not.toContain('13800001111');
    const options = (await zhou.get('/api/staff/cases/options')).body;
    expect(options).toMatchObject({ timeZone: 'Asia/Shanghai', dispatcher: 'zwzx', me: { unit: 'pcs-renmin', unitName: '人民路派出所', all: false, acts: true } });
    expect(options.units.find((u: { id: string }) => u.id === 'pcs-renmin')).toMatchObject({ parent: 'fj-zhongxin', path: '市公安局 / 中心区分局 / 人民路派出所' });
    expect(options.templates['治安'].map((x: { title: string }) => x.title)).toEqual(expect.arrayContaining(['噪音扰民处理', '已核实处理']));
  });

  it('works a case: accept, assign, note, ask the citizen, transfer, return; repeats move with it; close tells and surveys the citizen', async () => {
    // Another citizen reports the same matter: their own case, handled with the first.
    const repeat = await report('c-renmin-2', '人民路的KTV每天半夜噪音扰民，严重影响休息，希望处理', '人民路 8 号', '13800004444');
    expect((await system(`cases/${repeat}`)).body).toMatchObject({ repeatOf: renmin, handlingUnitId: 'pcs-renmin' });
    const zhou = await as('zhou');

    // Accept: a person takes the case; the callback is sent.
    expect((await zhou.post(`/api/staff/cases/${renmin}/accept`)).body).toMatchObject({ status: 'accepted' });
    expect((await zhou.get(`/api/staff/cases/${renmin}`)).body).toMatchObject({ assignee: 'zhou', assigneeName: '周警官' });
    expect(await callbacks(renmin)).toContain('case.accepted');
    expect(ids((await zhou.get('/api/staff/cases/search?mine=true')).body)).toContain(renmin);

    // Assign to a colleague of the unit; never to another unit's handler.
    const colleagues = (await zhou.get(`/api/staff/cases/${renmin}/colleagues`)).body.colleagues.map((c: { username: string }) => c.username);
    expect(colleagues).toEqual(expect.arrayContaining(['zhou', 'wu', 'fenju', 'city']));
    expect(colleagues).not.toContain('qian');
    expect((await zhou.post(`/api/staff/cases/${renmin}/assign`, { assignee: 'qian' })).status).toBe(400);
    expect((await zhou.post(`/api/staff/cases/${renmin}/assign`, { assignee: 42 })).status).toBe(400);
    expect((await zhou.post(`/api/staff/cases/${renmin}/assign`, { assignee: 'wu' })).status).toBe(200);
    expect(ids((await (await as('wu')).get('/api/staff/cases/search?mine=true')).body)).toEqual(expect.arrayContaining([renmin, repeat]));

    // An internal note: on the case, never in what the citizen hears.
    expect((await zhou.post(`/api/staff/cases/${renmin}/note`, { note: '经营者电话 13512345678，已约谈' })).status).toBe(200);
    expect((await zhou.post(`/api/staff/cases/${renmin}/note`, { note: '  ' })).status).toBe(400);
    const noted = (await zhou.get(`/api/staff/cases/${renmin}`)).body;
    const note = noted.steps.find((s: { action: string }) => s.action === '内部备注');
    expect(note).toMatchObject({ actor: 'staff:zhou', internal: true });
    expect(note.note).not.toContain('13512345678');
    expect(textOf(await chat('c-renmin', { text: '我的诉求怎么样了' }))).not.toMatch(/约谈|内部备注|指派/);

    // Ask the citizen: their chat is closed, so it is told at their next message, after its answer; the one after is the answer.
    const asked = (await zhou.post(`/api/staff/cases/${renmin}/request-info`, { question: '请问噪音一般从几点开始？' })).body;
    expect(asked.delivery).toBe('kept');
    const told = textOf(await chat('c-renmin', { text: '你好' }));
    expect(told).toContain('请问噪音一般从几点开始？');
    expect(ids((await zhou.get('/api/staff/cases/search')).body)).toContain(renmin);
    expect((await zhou.get('/api/staff/cases/search')).body.items.find((c: { id: string }) => c.id === renmin).waitingForCitizen).toBe(true);
    expect(textOf(await chat('c-renmin', { text: '每天晚上11点以后，我的电话13800001111' }))).toContain('已把您补充的情况转给承办单位');
    const answered = (await zhou.get(`/api/staff/cases/${renmin}`)).body;
    expect(answered.infoRequests[0]).toMatchObject({ question: '请问噪音一般从几点开始？', askedBy: 'staff:zhou' });
    expect(answered.infoRequests[0].answer).toContain('每天晚上11点以后');
    expect(answered.infoRequests[0].answer).not.toContain('13800001111');
    expect(answered.steps.at(-1)).toMatchObject({ actor: 'citizen', action: '群众补充' });

    // Transfer (a routing mistake): to 滨江派出所 with the reason; the repeat goes along; zhou no longer sees it.
    expect((await zhou.post(`/api/staff/cases/${renmin}/transfer`, { unit: 'pcs-binjiang' })).status).toBe(400);
    expect((await zhou.post(`/api/staff/cases/${renmin}/transfer`, { unit: 'nowhere', reason: 'x' })).status).toBe(400);
    expect((await zhou.post(`/api/staff/cases/${renmin}/transfer`, { unit: 'pcs-binjiang', reason: '经核实该KTV位于滨江派出所辖区' })).status).toBe(200);
    expect((await zhou.get(`/api/staff/cases/${renmin}`)).status).toBe(404);
    const qian = await as('qian');
    const moved = (await qian.get(`/api/staff/cases/${renmin}`)).body;
    expect(moved).toMatchObject({ handlingUnitId: 'pcs-binjiang', status: 'submitted', assignee: null, can: { work: true } });
    expect(moved.steps.find((s: { action: string }) => s.action === '转办')).toMatchObject({ internal: true, note: expect.stringContaining('经核实该KTV位于滨江派出所辖区') });
    expect((await qian.get(`/api/staff/cases/${repeat}`)).body).toMatchObject({ handlingUnitId: 'pcs-binjiang', status: 'submitted' });

    // Return to the dispatcher, who routes it again.
    expect((await qian.post(`/api/staff/cases/${renmin}/return`, { reason: '非本所辖区，请重新分拣' })).status).toBe(200);
    expect((await qian.get(`/api/staff/cases/${renmin}`)).status).toBe(404);
    const city = await as('city');
    expect((await city.get(`/api/staff/cases/${renmin}`)).body).toMatchObject({ handlingUnitId: 'zwzx' });
    expect((await city.post(`/api/staff/cases/${renmin}/return`, { reason: '再退' })).status).toBe(409);
    expect((await city.post(`/api/staff/cases/${renmin}/transfer`, { unit: 'pcs-binjiang', reason: '核实后确属滨江派出所' })).status).toBe(200);

    // qian handles it: accept, reply with a template, close with the result the citizen reads.
    expect((await qian.post(`/api/staff/cases/${renmin}/accept`)).status).toBe(200);
    const template = (await qian.get('/api/staff/cases/options')).body.templates['治安'][0].text as string;
    expect((await qian.post(`/api/staff/cases/${renmin}/reply`, {})).status).toBe(400);
    expect((await qian.post(`/api/staff/cases/${renmin}/reply`, { note: template.replace('【地点】', '滨江大道3号') })).status).toBe(200);
    expect((await qian.post(`/api/staff/cases/${renmin}/close`, { result: '民警已到场，责令该KTV夜间停止营业整改，噪音已消除。' })).body).toMatchObject({
      status: 'closed',
      reply: '民警已到场，责令该KTV夜间停止营业整改，噪音已消除。',
    });
    expect(await callbacks(renmin)).toEqual(expect.arrayContaining(['case.accepted', 'case.replied', 'case.closed']));
    // Both citizens hear the result of their own case and are asked to rate it.
    for (const [user, id] of [['c-renmin', renmin], ['c-renmin-2', repeat]]) {
      const heard = textOf(await chat(user!, { text: '你好' }));
      expect(heard, user).toContain(`编号 ${id}`);
      expect(heard).toContain('噪音已消除');
      expect(heard).toContain('请您对这次办理进行评价');
    }
    expect((await qian.get(`/api/staff/cases/${repeat}`)).body.status).toBe('closed');
    expect((await qian.post(`/api/staff/cases/${renmin}/note`, { note: '补记' })).status).toBe(200);
    expect((await qian.post(`/api/staff/cases/${renmin}/transfer`, { unit: 'pcs-renmin', reason: '关了' })).status).toBe(409);

    // Every action is in the audit log, by who did it.
    for (const [action, actor] of [['case.accept', 'zhou'], ['case.assign', 'zhou'], ['case.note', 'zhou'], ['case.request_info', 'zhou'], ['case.transfer', 'zhou'], ['case.return', 'qian'], ['case.transfer', 'city'], ['case.reply', 'qian'], ['case.close', 'qian']]) {
      expect((await audit(action!, actor!)).some((r) => r.target === renmin && r.outcome === 'ok'), `${action} by ${actor}`).toBe(true);
    }
  });

  it('keeps the documented system contract: bearer accept/start/reply/close with {note}', async () => {
    expect((await system(`cases/${passport}/accept`, { note: '已受理' })).body).toMatchObject({ status: 'accepted' });
    expect((await system(`cases/${passport}`)).body.assignee).toBeNull();
    expect((await system(`cases/${passport}/start`, {})).body).toMatchObject({ status: 'in_progress' });
    expect((await system(`cases/${passport}/reply`, { note: '网站已恢复，签注可在线预约。' })).body).toMatchObject({ status: 'replied' });
    expect((await system(`cases/${passport}/close`, { note: '办结' })).body).toMatchObject({ status: 'closed', reply: '网站已恢复，签注可在线预约。' });
    expect((await system(`cases/${passport}/close`, {})).status).toBe(409);
    expect((await system(`cases/${passport}/fly`, {})).status).toBe(404);
  });

  it('searches by number, words and phone last four; filters, sorts and pages; refuses bad parameters', async () => {
    const desk = t.server.engine.desk!;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        (await desk.create(
          { type: '投诉', description: `文华路${i + 1}号门口每天晚上有人打架斗殴，非常吵闹`, place: `文华路 ${i + 1} 号`, citizen: { id: `web:s${i}`, mobile: `1360000${String(i).padStart(4, '0')}`, consentToContact: true } },
          `desk-search-${i}`,
        )).id,
      );
    }
    await t.server.db.query("UPDATE cases SET due_at = now() - interval '2 hours' WHERE id = $1", [made[0]]);
    await t.server.db.query("UPDATE cases SET due_at = now() + interval '3 hours' WHERE id = $1", [made[1]]);
    await t.server.db.query("UPDATE cases SET level = 2 WHERE id = $1", [made[2]]);
    const zhou = await as('zhou');
    const search = async (q: string) => (await zhou.get(`/api/staff/cases/search?${q}`)).body;

    expect(ids(await search(`q=${made[3]}`))).toEqual([made[3]]);
    expect(ids(await search('q=0004'))).toEqual([made[4]]);
    expect(ids(await search(`q=${encodeURIComponent('文华路3号')}`))).toEqual([made[2]]);
    expect(ids(await search('overdue=true'))).toEqual([made[0]]);
    expect(ids(await search('dueSoon=true'))).toEqual([made[1]]);
    expect(ids(await search('level=2'))).toEqual([made[2]]);
    const page = await search('pageSize=2&page=2&sort=created&order=asc');
    expect(page).toMatchObject({ total: 5, page: 2, pageSize: 2 });
    expect(ids(page)).toEqual([made[2], made[3]]);
    expect(ids(await search('pageSize=2&page=9'))).toEqual([]);
    expect((await search('pageSize=2&page=9')).total).toBe(5);
    const first = await search('sort=due');
    expect(first.items[0]).toMatchObject({ id: made[0], sla: 'overdue' });
    expect(first.items[1]).toMatchObject({ id: made[1], sla: 'due_soon' });
    expect(first.items.find((c: { id: string }) => c.id === made[2])).toMatchObject({ level: 2 });
    expect(first.counts).toMatchObject({ notStarted: 5, overdue: 1, dueSoon: 1, escalated: 1, closed: 0 });
    // The history of closed cases is there for the bureau (zhou's unit has none closed of its own now).
    expect(ids((await (await as('city')).get('/api/staff/cases/search?status=closed')).body)).toEqual(expect.arrayContaining([renmin, passport]));
    expect(ids(await search(`unit=pcs-binjiang`))).toEqual([]);
    for (const bad of ['level=7', 'pageSize=1000', 'status=lost', 'unit=nowhere', 'overdue=maybe', 'sort=name', 'page=0', 'q=a&q=b']) {
      const r = await zhou.get(`/api/staff/cases/search?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error).toMatch(/参数|未知单位/);
    }
  });

  it('asks through an open chat at once; 取消 declines; a case with no chat says so', async () => {
    const id = await report('c-open', '解放路的烧烤摊每天半夜噪音扰民，影响休息', '解放路 2 号', '13800005555');
    const pushed = eventStream(`${t.base}/api/chat/events?userId=c-open`, CHAT_AUTH);
    await pushed.opened;
    for (let i = 0; i < 250 && t.server.push.connections('api', 'c-open') === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const zhou = await as('zhou');
    expect((await zhou.post(`/api/staff/cases/${id}/request-info`, { question: '烧烤摊具体在哪个路口？' })).body.delivery).toBe('told');
    expect(JSON.stringify((await pushed.next((e) => e.event === 'message')).data)).toContain('烧烤摊具体在哪个路口？');
    expect(textOf(await chat('c-open', { text: '取消' }))).toContain('先不补充');
    expect((await zhou.get(`/api/staff/cases/${id}`)).body.infoRequests[0].answer).toBeNull();
    // Its next words are a question again, not an answer.
    expect(textOf(await chat('c-open', { text: '身份证丢了怎么办' }))).not.toContain('已把您补充的情况');
    pushed.close();
    const noChat = (await t.server.engine.desk!.create(
      { type: '投诉', description: '人民路口的信号灯坏了好几天，一直没人修', citizen: { id: 'hotline:1', mobile: '13800006666', consentToContact: true } },
      'desk-no-chat',
    )).id;
    const r = await (await as('city')).post(`/api/staff/cases/${noChat}/request-info`, { question: '请问是哪个路口？' });
    expect(r.body.delivery).toBe('no_chat');
    expect((await (await as('city')).post(`/api/staff/cases/${noChat}/request-info`, { question: '' })).status).toBe(400);
  });

  it('streams the arrival and changes of the cases of the scope, and only those', async () => {
    const zhou = await as('zhou');
    const stream = eventStream(`${t.base}/api/staff/cases/events`, { cookie: zhou.cookie });
    await stream.opened;
    const desk = t.server.engine.desk!;
    const other = await desk.create(
      { type: '投诉', description: '江景路上的工地半夜施工噪音扰民，影响休息', place: '江景路 1 号', citizen: { id: 'web:e1', mobile: '13600009999', consentToContact: true } },
      'desk-events-other',
    );
    const mine = await desk.create(
      { type: '投诉', description: '解放路的烧烤店每天半夜噪音扰民，影响休息', place: '解放路 9 号', citizen: { id: 'web:e2', mobile: '13600008888', consentToContact: true } },
      'desk-events-mine',
    );
    expect((await stream.next((e) => e.event === 'case')).data).toMatchObject({ caseId: mine.id, kind: 'created', handlingUnitId: 'pcs-renmin' });
    await zhou.post(`/api/staff/cases/${mine.id}/accept`);
    expect((await stream.next((e) => e.event === 'case')).data).toMatchObject({ caseId: mine.id, kind: 'changed', status: 'accepted' });
    expect(stream.events.some((e) => e.data.caseId === other.id)).toBe(false);
    stream.close();
  });
});
