/** /api/chat and its event stream over real HTTP, a restart mid-conversation, and ordering. */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../../bot/server/start.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { listMessages, loadConversation } from '../../../bot/store/conversations.ts';
import { recentQuestions } from '../../../bot/store/question-log.ts';
import { removeDir, testConfig } from '../../helpers/kb.ts';
import { useTestServer } from '../../helpers/server.ts';

// A trusted integration names its citizens (channel "api"); web citizens are sessions (citizen-identity.test.ts).
const CHAT_TOKEN = 'chat-token-0123456789';
const AUTH = { authorization: `Bearer ${CHAT_TOKEN}` };
const post = (base: string, body: unknown, raw?: string) =>
  fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: raw ?? JSON.stringify(body) });

describe('POST /api/chat', () => {
  const t = useTestServer({ STAFF_API_TOKEN: 'staff-token-0123456789', HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时', CHAT_API_TOKEN: CHAT_TOKEN, CHAT_RATE_PER_MINUTE: '1000' });

  it('answers with replies, intent, item, candidates, aspect, sources and the conversation', async () => {
    const res = await post(t.base, { userId: 'api-1', text: '身份证丢了补办要多少钱' });
    expect(res.status).toBe(200);
    const o = await res.json();
    expect(Object.keys(o).sort()).toEqual(['aspect', 'candidates', 'conversation', 'intent', 'item', 'replies', 'sources'].sort());
    expect(o).toMatchObject({ intent: 'answer', item: { id: 'sfz-04' }, aspect: 'fees', conversation: { state: 'in_item', handedOver: false } });
    expect(o.sources[0]).toMatchObject({ itemId: 'sfz-04', itemName: '居民身份证丢失补领', section: '收费标准' });
    expect(o.replies.at(-1).type).toBe('menu');

    const next = await (await post(t.base, { userId: 'api-1', menuId: 'aspect:time' })).json();
    expect(next).toMatchObject({ item: { id: 'sfz-04' }, aspect: 'time' });
  });

  it('rejects bad input with 400 and a clear message, and keeps serving', async () => {
    const cases: Array<[unknown, string | undefined, string]> = [
      [{ text: '你好' }, undefined, 'userId'],
      [{ userId: 'x', text: '' }, undefined, '不能为空'],
      [{ userId: 'x', text: '   ' }, undefined, '不能为空'],
      [{ userId: 'x', text: '长'.repeat(2001) }, undefined, '2000'],
      [{ userId: 'x' }, undefined, 'text 或 menuId'],
      [{ userId: 'x', text: 'a', menuId: 'b' }, undefined, 'not both'],
      [{ userId: 'x', location: { lat: 'a' } }, undefined, 'lat'],
      [null, '{bad json', 'malformed JSON'],
      [null, '[1,2]', 'JSON 对象'],
    ];
    for (const [body, raw, msg] of cases) {
      const res = await post(t.base, body, raw);
      expect(res.status, JSON.stringify(body ?? raw)).toBe(400);
      expect((await res.json()).error).toContain(msg);
    }
    expect((await post(t.base, { userId: 'x', text: '😀😀 身份證丟了' })).status).toBe(200);
  });

  it('pushes proactive messages to an open chat over server-sent events', async () => {
    const received = new Promise<string>((resolve, reject) => {
      const req = http.get(`${t.base}/api/chat/events?userId=push-1`, { headers: AUTH }, (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          if (buf.includes(': connected')) t.server.push.publish('api', 'push-1', [{ type: 'text', text: '您的诉求已办结，请评价。' }]);
          const m = /event: message\ndata: (.*)\n\n/.exec(buf);
          if (m) {
            req.destroy();
            resolve(m[1]!);
          }
        });
      });
      req.on('error', reject);
    });
    expect(JSON.parse(await received)).toEqual({ replies: [{ type: 'text', text: '您的诉求已办结，请评价。' }] });
    expect((await fetch(`${t.base}/api/chat/events`, { headers: AUTH })).status).toBe(400);
  });

  it('handles messages from one user one at a time, in order, even when they arrive together', async () => {
    const texts = ['身份证丢了怎么补', '要多少钱', '在哪办', '网上能办吗', '多久能拿到'];
    const results = await Promise.all(texts.map((text) => post(t.base, { userId: 'burst-1', text }).then((r) => r.json())));
    expect(results.map((r) => r.aspect)).toEqual(['general', 'fees', 'place', 'online', 'time']);
    expect(results.every((r) => r.item?.id === 'sfz-04')).toBe(true);
  });

  it('hands over to the staff queue, stays silent, and speaks again once staff release it', async () => {
    await post(t.base, { userId: 'ho-1', text: '户口迁移怎么办' });
    const ho = await (await post(t.base, { userId: 'ho-1', text: '转人工' })).json();
    expect(ho.conversation).toEqual({ state: 'handed_over', handedOver: true });
    const silent = await (await post(t.base, { userId: 'ho-1', text: '有人吗' })).json();
    expect(silent.replies).toEqual([]);

    const auth = { authorization: 'Bearer staff-token-0123456789' };
    expect((await fetch(`${t.base}/api/staff/handoffs`)).status).toBe(401);
    const queue = await (await fetch(`${t.base}/api/staff/handoffs`, { headers: auth })).json();
    const mine = queue.handoffs.find((h: { userId: string }) => h.userId === 'ho-1');
    expect(mine.summary).toMatchObject({ intent: 'handoff', lastQuestions: ['户口迁移怎么办', '转人工'] });
    const rel = await fetch(`${t.base}/api/staff/conversations/api/ho-1/release`, { method: 'POST', headers: auth });
    expect(rel.status).toBe(200);
    const back = await (await post(t.base, { userId: 'ho-1', text: '身份证丢了怎么补' })).json();
    expect(back.conversation.handedOver).toBe(false);
    expect(back.replies.length).toBeGreaterThan(0);
  });
});

describe('a conversation across a server restart', () => {
  it('continues where it stopped, and masks numbers in the stored messages', async () => {
    const config = testConfig({ CHAT_API_TOKEN: CHAT_TOKEN });
    let server = await startServer({ ...config, port: 0 }, { handleSignals: false, quiet: true });
    let base = `http://127.0.0.1:${server.port}`;
    await post(base, { userId: 'restart-1', text: '驾照到期怎么换，我电话13812345678' });
    await server.close();

    server = await startServer({ ...config, port: 0 }, { handleSignals: false, quiet: true });
    base = `http://127.0.0.1:${server.port}`;
    const o = await (await post(base, { userId: 'restart-1', text: '要多少钱' })).json();
    expect(o).toMatchObject({ item: { id: 'jsz-02' }, aspect: 'fees' });
    await server.close();

    const db = await openDatabase(config);
    const conv = await loadConversation(db, 'api', 'restart-1');
    const msgs = await listMessages(db, conv.id);
    expect(msgs[0]).toMatchObject({ direction: 'in', text: '驾照到期怎么换，我电话138****5678' });
    expect(JSON.stringify(msgs)).not.toContain('13812345678');
    // Chat questions go to the question log too, for analytics.
    const logged = await recentQuestions(db, 5);
    expect(logged.map((q) => q.channel)).toContain('api');
    expect(logged.some((q) => q.text === '驾照到期怎么换，我电话138****5678' && q.itemId === 'jsz-02')).toBe(true);
    await db.close();
    removeDir(config.dataDir);
  });
});
