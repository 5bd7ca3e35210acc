/**
 * End to end over HTTP: a complaint in the chat opens a case → staff close it at the desk →
 * the survey reaches the chat → 差评 → level 2 at the desk → closed again → 满意 recorded.
 * And: forged or stale callbacks are refused, a repeated callback counts once.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { signCallback } from '../../../integrations/case-platform/signature.ts';
import { useTestServer } from '../../helpers/server.ts';

const TOKEN = 'staff-token-0123456789';
const SECRET = 'callback-secret-0123456789';
const CHAT_AUTH = { authorization: 'Bearer chat-token-0123456789' };

describe('a case from the chat to the rating', () => {
  const t = useTestServer({ STAFF_API_TOKEN: TOKEN, CASE_CALLBACK_SECRET: SECRET, CHAT_API_TOKEN: 'chat-token-0123456789' });

  const chat = async (body: Record<string, unknown>) =>
    (await fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', ...CHAT_AUTH }, body: JSON.stringify({ userId: 'citizen-1', ...body }) })).json();
  const say = (text: string) => chat({ text });
  const textOf = (r: { replies: Array<{ type: string; text?: string; head?: string }> }) => r.replies.map((x) => x.text ?? x.head).join('\n');
  const staff = async (path: string, body?: unknown) => {
    const res = await fetch(`${t.base}/api/staff/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  /** Opens the chat's event stream and resolves with the next pushed replies. */
  const nextPush = () =>
    new Promise<string>((resolve, reject) => {
      const req = http.get(`${t.base}/api/chat/events?userId=citizen-1`, { headers: CHAT_AUTH }, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          const m = /event: message\ndata: (.*)\n\n/.exec(buf);
          if (m) {
            req.destroy();
            resolve(m[1]!);
          }
        });
      });
      req.on('error', reject);
    });
  const waitForStream = async () => {
    // The stream is open once the server has counted the subscriber.
    for (let i = 0; i < 250 && t.server.push.connections('api', 'citizen-1') === 0; i++) await new Promise((r) => setTimeout(r, 20));
  };
  const handle = async (id: string, note = '已联系经营者整改，夜间噪音已消除。') => {
    for (const action of ['accept', 'reply', 'close']) {
      const r = await staff(`cases/${id}/${action}`, action === 'reply' ? { note } : {});
      expect(r.status, `${action}: ${JSON.stringify(r.body)}`).toBe(200);
    }
  };

  it('runs the whole loop, with three-level follow-up', async () => {
    // 1. A complaint in the chat opens a case.
    await say('我要投诉楼下KTV每天半夜噪音扰民，严重影响休息');
    await say('北苑路 12 号');
    await say('13812345678');
    await chat({ menuId: 'case:skip' });
    await chat({ menuId: 'case:consent:yes' });
    const submitted = await chat({ menuId: 'case:submit' });
    const id = /编号 (XA\d+)/.exec(textOf(submitted))?.[1];
    expect(id, textOf(submitted)).toBeDefined();
    expect(textOf(submitted)).toContain('北苑派出所');
    expect((await staff('cases')).body.notStarted.map((c: { id: string }) => c.id)).toContain(id);

    // 2. Staff close it; the signed callback reaches 小安; the survey reaches the open chat.
    const pushed = nextPush();
    await waitForStream();
    await handle(id!);
    const survey = JSON.parse(await pushed) as { replies: Array<{ type: string; text?: string; items?: Array<{ label: string }> }> };
    expect(survey.replies[0]!.text).toContain(`编号 ${id}`);
    expect(survey.replies[0]!.text).toContain('夜间噪音已消除');
    expect(survey.replies[1]!.items!.map((i) => i.label)).toEqual(['非常满意', '满意', '基本满意', '不满意', '非常不满意']);

    // 3. 差评 (typed as a number): asked why, recorded, escalated to level 2.
    expect(textOf(await say('4'))).toContain('不满意的原因');
    expect(textOf(await say('晚上还是很吵，没有任何变化'))).toContain('重新办理');
    const reopened = (await staff(`cases/${id}`)).body;
    expect(reopened).toMatchObject({ level: 2, round: 2, status: 'submitted', supervisingUnit: '市公安局治安管理支队' });
    expect(reopened.steps.map((s: { action: string }) => s.action)).toEqual(expect.arrayContaining(['评价', '二级回访：重新办理']));

    // 4. Handled again and closed; this time the citizen has no open chat: asked at the next contact.
    await handle(id!, '督办后已查封噪音设备。');
    const next = await say('你好');
    expect(textOf(next)).toContain('督办后已查封噪音设备');
    const done = await chat({ menuId: 'rate:满意' });
    expect(textOf(done)).toContain('感谢您的评价');
    const final = (await staff(`cases/${id}`)).body;
    expect(final.steps.filter((s: { action: string }) => s.action === '评价').map((s: { note: string }) => s.note)).toEqual([
      '不满意：晚上还是很吵，没有任何变化',
      '满意',
    ]);
    expect(final.level).toBe(2);
  });

  it('refuses forged and stale callbacks, and counts a repeated one once', async () => {
    const event = { eventId: 'ev-1', type: 'case.closed', caseId: 'XA-NONE', at: new Date().toISOString(), case: { id: 'XA-NONE', status: 'closed', round: 1, level: 1 } };
    const body = JSON.stringify(event);
    const post = (headers: Record<string, string>, b = body) => fetch(`${t.base}/cases/callback`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });
    const good = signCallback(SECRET, body);
    const forged = signCallback('not-the-secret-000000', body);
    const stale = signCallback(SECRET, body, Math.floor(Date.now() / 1000) - 600);
    expect((await post({ 'x-timestamp': forged.timestamp, 'x-signature': forged.signature })).status).toBe(401);
    expect((await post({ 'x-timestamp': stale.timestamp, 'x-signature': stale.signature })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-timestamp': good.timestamp, 'x-signature': good.signature }, `${body} `)).status).toBe(401);
    const first = await post({ 'x-timestamp': good.timestamp, 'x-signature': good.signature });
    expect(await first.json()).toEqual({ result: 'unknown_case' });
    const again = await post({ 'x-timestamp': good.timestamp, 'x-signature': good.signature });
    expect(await again.json()).toEqual({ result: 'duplicate' });
  });
});
