/** 人工会话 over real HTTP: every inbox action, the push to the console, roles, and the wait. */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { useTestServer } from '../../helpers/server.ts';
import { eventStream, staffLogin, type StaffClient } from '../../helpers/staff.ts';

const CHAT_TOKEN = 'chat-token-0123456789';
const CHAT = { authorization: `Bearer ${CHAT_TOKEN}` };
type Replies = { replies: Array<{ type: string; text?: string; head?: string; title?: string; body?: string; items?: Array<{ id: string; label: string }> }> };
const textOf = (r: Replies) => r.replies.map((x) => x.text ?? x.head ?? x.title ?? '').join('\n');

const addAccounts = async (config: Parameters<typeof openDatabase>[0]) => {
  const db = await openDatabase(config);
  await addStaff(db, 'wang', 'agent-password-1', ['agent']);
  await addStaff(db, 'zhao', 'agent-password-2', ['agent', 'hotline']);
  await addStaff(db, 'sun', 'hotline-password-1', ['hotline']);
  await db.close();
};

function citizenOf(base: string, userId: string) {
  const say = async (body: Record<string, unknown>): Promise<Replies> =>
    (await fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', ...CHAT }, body: JSON.stringify({ userId, ...body }) })).json();
  return {
    say: (text: string) => say({ text }),
    menu: (menuId: string) => say({ menuId }),
    stream: () => eventStream(`${base}/api/chat/events?userId=${userId}`, CHAT),
    history: async () => (await (await fetch(`${base}/api/chat/history?userId=${userId}`, { headers: CHAT })).json()).messages as Array<{ direction: string; text: string | null }>,
  };
}

describe('the live inbox', () => {
  const t = useTestServer({ HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时', HANDOFF_WAIT_MINUTES: '0.05', CHAT_API_TOKEN: CHAT_TOKEN, CHAT_RATE_PER_MINUTE: '1000' }, addAccounts);
  let wang: StaffClient;
  let zhao: StaffClient;

  it('shows a handed-over chat at once, with the summary; only agents see it', async () => {
    wang = await staffLogin(t.base, 'wang', 'agent-password-1');
    zhao = await staffLogin(t.base, 'zhao', 'agent-password-2');
    const console = eventStream(`${t.base}/api/staff/inbox/events`, { cookie: wang.cookie });
    await console.opened;
    const c = citizenOf(t.base, 'inbox-1');
    await c.say('户口迁移需要什么材料');
    const handed = await c.say('转人工');
    expect(textOf(handed)).toContain('转接人工客服');
    const pushed = await console.next((e) => e.event === 'handoff' && e.data.action === 'created');
    expect(pushed.data.item).toMatchObject({ channel: 'api', userId: 'inbox-1', status: 'open', assignedTo: null });
    expect(pushed.data.item.summary.lastQuestions).toEqual(['户口迁移需要什么材料', '转人工']);
    const list = await wang.get('/api/staff/inbox');
    expect(list.body.items.map((i: { userId: string }) => i.userId)).toContain('inbox-1');
    console.close();

    const sun = await staffLogin(t.base, 'sun', 'hotline-password-1');
    expect((await sun.get('/api/staff/inbox')).status).toBe(403);
    expect((await sun.get(`/api/staff/inbox/${pushed.data.item.id}`)).status).toBe(403);
    expect((await fetch(`${t.base}/api/staff/inbox`)).status).toBe(401);
    // A change without the CSRF token is refused.
    const forged = await fetch(`${t.base}/api/staff/inbox/${pushed.data.item.id}/accept`, { method: 'POST', headers: { cookie: wang.cookie, origin: t.base } });
    expect(forged.status).toBe(403);
  });

  it('lets one agent take a chat, reply, send a card, keep notes, transfer and release it', async () => {
    const c = citizenOf(t.base, 'inbox-2');
    await c.say('转人工');
    const id = (await wang.get('/api/staff/inbox')).body.items.find((i: { userId: string }) => i.userId === 'inbox-2').id;
    const stream = c.stream();
    await stream.opened;
    for (let i = 0; i < 100 && t.server.push.connections('api', 'inbox-2') === 0; i++) await new Promise((r) => setTimeout(r, 20));

    // Two agents accept at once: exactly one gets it.
    const [a, b] = await Promise.all([wang.post(`/api/staff/inbox/${id}/accept`), zhao.post(`/api/staff/inbox/${id}/accept`)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const holder = a.status === 200 ? wang : zhao;
    const other = holder === wang ? zhao : wang;
    const holderName = holder === wang ? 'wang' : 'zhao';
    expect((await other.post(`/api/staff/inbox/${id}/accept`)).body.error).toContain(holderName);
    expect(JSON.stringify((await stream.next()).data)).toContain('工作人员已接入');

    // The holder's reply reaches the citizen at once; another agent cannot reply.
    expect((await holder.post(`/api/staff/inbox/${id}/reply`, { text: '您好，请问您要办理哪项业务？' })).body).toEqual({ delivered: true });
    expect(JSON.stringify((await stream.next()).data)).toContain('请问您要办理哪项业务');
    expect((await other.post(`/api/staff/inbox/${id}/reply`, { text: '我来' })).status).toBe(403);
    expect((await holder.post(`/api/staff/inbox/${id}/reply`, { text: '   ' })).status).toBe(400);
    expect((await holder.post(`/api/staff/inbox/${id}/reply`, { text: 42 })).status).toBe(400);

    // The bot stays silent while a person holds the chat; an emergency still gets the number.
    expect((await c.say('我想补办身份证')).replies).toEqual([]);
    // The assistant suggests replies to the citizen's latest words, with their source.
    const suggested = (await holder.get(`/api/staff/inbox/${id}/suggestions`)).body;
    expect(suggested.basedOn).toBe('我想补办身份证');
    expect(suggested.suggestions.length).toBeGreaterThan(0);
    expect(suggested.suggestions[0].text).toContain('来源');
    expect(suggested.suggestions.map((x: { itemId: string }) => x.itemId)).toContain('sfz-04');
    expect(textOf(await c.say('有人拿刀砍人'))).toContain('110');

    // A guide card from the official guide, with its source.
    expect((await holder.post(`/api/staff/inbox/${id}/card`, { itemId: 'sfz-04' })).body.delivered).toBe(true);
    const card = (await stream.next()).data.replies[0];
    expect(card).toMatchObject({ type: 'card', title: '居民身份证丢失补领' });
    expect(card.sources[0]).toMatchObject({ itemId: 'sfz-04' });
    expect((await holder.post(`/api/staff/inbox/${id}/card`, { itemId: 'nope-99' })).status).toBe(400);

    // A private note: colleagues see it, the citizen never does. Numbers in it are masked.
    await holder.post(`/api/staff/inbox/${id}/note`, { text: '群众电话 13812345678，需回访' });
    const detail = (await other.get(`/api/staff/inbox/${id}`)).body;
    expect(detail.events.map((e: { action: string }) => e.action)).toEqual(['accepted', 'reply', 'card', 'note']);
    expect(detail.events[3].text).not.toContain('13812345678');
    expect(detail.transcript.map((m: { text: string }) => m.text)).toEqual(expect.arrayContaining(['转人工', '您好，请问您要办理哪项业务？', '我想补办身份证']));
    expect((await c.history()).map((m) => m.text).join('\n')).not.toContain('需回访');

    // A case opened for the citizen, with the details filled in: they are told its number.
    const opened = await holder.post(`/api/staff/inbox/${id}/case`, {
      type: '求助',
      description: '群众身份证丢失，急需补办后乘坐火车，请协助加急办理。',
      mobile: '13812345678',
      consentToContact: true,
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect(opened.body.caseId).toMatch(/^XA/);
    expect(JSON.stringify((await stream.next()).data)).toContain(opened.body.caseId);
    expect((await holder.post(`/api/staff/inbox/${id}/case`, { type: '求助', description: '太短', mobile: '13812345678', consentToContact: true })).status).toBe(400);

    // Transfer to a colleague: now theirs alone.
    expect((await holder.post(`/api/staff/inbox/${id}/transfer`, { to: 'sun' })).status).toBe(400);
    expect((await holder.post(`/api/staff/inbox/${id}/transfer`, { to: holderName === 'wang' ? 'zhao' : 'wang' })).body.assignedTo).not.toBe(holderName);
    expect((await holder.post(`/api/staff/inbox/${id}/reply`, { text: '还在吗' })).status).toBe(403);
    expect((await other.post(`/api/staff/inbox/${id}/reply`, { text: '我接着为您服务。' })).status).toBe(200);

    // Released: the citizen is told, and 小安 answers again.
    expect((await other.post(`/api/staff/inbox/${id}/release`)).body.status).toBe('released');
    expect(JSON.stringify((await stream.next((e) => JSON.stringify(e.data).includes('人工服务已结束'))).data)).toContain('小安继续为您服务');
    expect(textOf(await c.say('身份证丢了补办要多少钱'))).toContain('居民身份证');
    expect((await wang.get('/api/staff/inbox')).body.items.map((i: { id: number }) => i.id)).not.toContain(id);
    expect((await other.post(`/api/staff/inbox/${id}/reply`, { text: '再见' })).status).toBe(409);
    stream.close();
  });

  it('carries the item and the 情形 the citizen named into the summary', async () => {
    const c = citizenOf(t.base, 'inbox-4');
    await c.say('身份证丢了怎么办');
    await c.say('在户籍地补领');
    await c.say('转人工');
    const item = (await wang.get('/api/staff/inbox')).body.items.find((i: { userId: string }) => i.userId === 'inbox-4');
    expect(item.summary).toMatchObject({ item: { id: 'sfz-04' }, situation: expect.stringContaining('户籍地') });
    await wang.post(`/api/staff/inbox/${item.id}/accept`);
    await wang.post(`/api/staff/inbox/${item.id}/release`);
  });

  it('offers 留言 when nobody takes the chat in time, and an agent can still take it up', async () => {
    const c = citizenOf(t.base, 'inbox-3');
    await c.say('转人工');
    const id = (await wang.get('/api/staff/inbox')).body.items.find((i: { userId: string }) => i.userId === 'inbox-3').id;
    await expect.poll(async () => (await wang.get(`/api/staff/inbox/${id}`)).body.status, { timeout: 15_000, interval: 250 }).toBe('missed');
    const told = (await c.history()).at(-1)!;
    expect(told.text).toContain('没能及时接入');
    // The bot speaks again: the citizen can take the offer and leave a message (a case).
    expect(textOf(await c.menu('leave_message'))).toContain('登记');
    await c.say('取消');
    expect((await wang.post(`/api/staff/inbox/${id}/accept`)).status).toBe(200);
    expect((await c.history()).at(-1)!.text).toContain('工作人员已接入');
    expect((await c.say('我想问户口的事')).replies).toEqual([]);
    await wang.post(`/api/staff/inbox/${id}/release`);
  });

  it('shows a citizen once: a new 转人工 replaces the request nobody took', async () => {
    const c = citizenOf(t.base, 'inbox-5');
    await c.say('转人工');
    const first = (await wang.get('/api/staff/inbox')).body.items.find((i: { userId: string }) => i.userId === 'inbox-5').id;
    await expect.poll(async () => (await wang.get(`/api/staff/inbox/${first}`)).body.status, { timeout: 15_000, interval: 250 }).toBe('missed');
    await c.say('转人工');
    const mine = (await wang.get('/api/staff/inbox')).body.items.filter((i: { userId: string }) => i.userId === 'inbox-5');
    expect(mine).toHaveLength(1);
    expect(mine[0].id).not.toBe(first);
    expect((await wang.get(`/api/staff/inbox/${first}`)).body.status).toBe('closed');
  });
});

describe('outside service hours', () => {
  // A one-hour window that is not now, on the bureau's clock.
  const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  const from = hour < 20 ? hour + 2 : 1;
  const hours = `每天 ${from}:00–${from + 1}:00`;
  const t = useTestServer({ HANDOFF_MODE: 'queue', SERVICE_HOURS: hours, CHAT_API_TOKEN: CHAT_TOKEN }, addAccounts);

  it('says the hours in one honest sentence, offers 留言 and hands nothing over', async () => {
    const c = citizenOf(t.base, 'late-1');
    const r = await c.say('转人工');
    expect(textOf(r)).toContain(hours);
    expect(r.replies.at(-1)!.items!.map((i) => i.id)).toEqual(['leave_message', 'continue']);
    const wang = await staffLogin(t.base, 'wang', 'agent-password-1');
    expect((await wang.get('/api/staff/inbox')).body.items).toEqual([]);
    expect(textOf(await c.say('身份证丢了补办要多少钱'))).toContain('居民身份证');
  });
});

describe('without a human channel', () => {
  const t = useTestServer({ CHAT_API_TOKEN: CHAT_TOKEN });

  it('never claims it is outside the hours', async () => {
    const r = textOf(await citizenOf(t.base, 'none-1').say('转人工'));
    expect(r).not.toContain('服务时间');
    expect(r).toContain('留言');
  });
});
