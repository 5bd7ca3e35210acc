/**
 * 热线助手 over real HTTP: suggestions quoted from the guides with their sources and 情形
 * questions, emergencies first, the call's context, unanswered utterances logged, staff's
 * verdicts stored, and who may call it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { listAudit } from '../../../bot/store/audit.ts';
import { SECTION_NAMES } from '../../../knowledge-base/guide.ts';
import { useTestServer } from '../../helpers/server.ts';
import type { AssistReply, Suggestion } from '../../../bot/assist/assistant.ts';

const STAFF_TOKEN = 'staff-token-0123456789';
const ASSIST_TOKEN = 'assist-token-0123456789';

const guideText = (itemId: string) => readFileSync(path.join(PROJECT_ROOT, 'knowledge-base', 'guides', `${itemId}.md`), 'utf8');

/** Every fact of a suggestion is a piece of its guide, word for word (labels and the source aside). */
function factsOf(s: Suggestion): string[] {
  const body = s.text.replace(/（来源：《[^》]+》办事指南·[^）]+）$/, '');
  return body
    .split(/[；。]/)
    .map((p) => p.replace(/^(?:地点|所需材料(?:（.*?）)?|收费|时限|条件|流程|网上办理)：/, '').replace(/等，共 \d+ 项$/, '').trim())
    .filter(Boolean);
}

describe('热线助手 API', () => {
  const t = useTestServer({ STAFF_API_TOKEN: STAFF_TOKEN, ASSIST_API_TOKEN: ASSIST_TOKEN }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'wang', 'hotline-password-1', ['hotline']);
    await addStaff(db, 'zhao', 'agent-password-12', ['agent']);
    await db.close();
  });

  const login = async (username: string, password: string) => {
    const res = await fetch(`${t.base}/staff/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.base },
      body: new URLSearchParams({ username, password }),
      redirect: 'manual',
    });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).not.toBe('');
    const me = (await (await fetch(`${t.base}/api/staff/me`, { headers: { cookie } })).json()) as { csrfToken: string };
    return { cookie, csrf: me.csrfToken };
  };
  let hotline: { cookie: string; csrf: string } | undefined;
  const session = async () => (hotline ??= await login('wang', 'hotline-password-1'));

  /** A POST as the hotline page makes it: session cookie, our Origin, the CSRF token. */
  const post = async (p: string, body: unknown, headers?: Record<string, string>) => {
    const s = headers ? null : await session();
    const res = await fetch(`${t.base}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(s ? { cookie: s.cookie, origin: t.base, 'x-csrf-token': s.csrf } : headers) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const assist = async (text: string, callId?: string): Promise<AssistReply> => {
    const r = await post('/api/assist', { text, ...(callId ? { callId } : {}) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as AssistReply;
  };

  it('gives three sourced suggestions for 身份证丢了怎么补办, best first, short, quoted from the guides', async () => {
    const r = await assist('身份证丢了怎么补办');
    expect(r.unanswered).toBe(false);
    expect(r.emergency).toBeNull();
    expect(r.suggestions).toHaveLength(3);
    expect(r.suggestions[0]!.itemId).toBe('sfz-04');
    expect(r.suggestions[0]!.itemName).toBe('居民身份证丢失补领');
    // The 情形 of the top item is not known yet: the question to ask the caller.
    expect(r.suggestions[0]!.askCaller).toEqual(['请问您是在户籍地补领，还是在非户籍地异地补领？']);
    expect(new Set(r.suggestions.map((s) => s.itemId)).size).toBe(3);
    for (const s of r.suggestions) {
      expect(s.id).toMatch(new RegExp(`^${r.utteranceId}-[1-3]$`));
      expect(s.sources.length).toBeGreaterThan(0);
      for (const src of s.sources) {
        expect(src.itemId).toBe(s.itemId);
        expect(SECTION_NAMES).toContain(src.section);
      }
      // Names its source, and is short enough to read out.
      expect(s.text).toContain(`来源：《${s.itemName}》办事指南`);
      expect([...s.text].length).toBeLessThan(320);
      const guide = guideText(s.itemId);
      for (const f of factsOf(s)) expect(guide, `${s.itemId}: ${f}`).toContain(f);
    }
    expect(r.suggestions[0]!.text).toContain('丢失补领工本费每证 40 元');
  });

  it('puts a 110 emergency first for 有人拿刀砍人', async () => {
    const r = await assist('有人拿刀砍人', 'call-emergency');
    expect(r.emergency).toMatchObject({ number: '110' });
    expect(r.emergency!.reason).toBeTruthy();
    expect(r.suggestions).toEqual([]);
    expect(r.unanswered).toBe(false);
  });

  it('carries the item and 情形 of a call to its follow-ups, and not to another call', async () => {
    const first = await assist('身份证丢了怎么补办', 'call-A');
    expect(first.callId).toBe('call-A');
    const fee = await assist('要多少钱', 'call-A');
    expect(fee.utteranceId).toBeGreaterThan(first.utteranceId);
    expect(fee.unanswered).toBe(false);
    expect(fee.suggestions).toHaveLength(1);
    expect(fee.suggestions[0]).toMatchObject({ itemId: 'sfz-04', aspect: 'fees', sources: [{ itemId: 'sfz-04', section: '收费标准' }] });
    expect(fee.suggestions[0]!.text).toMatch(/^丢失补领工本费每证 40 元/);
    // The caller names their 情形: the answer is for it, and the question is no longer asked.
    const situation = await assist('我是外地户口', 'call-A');
    expect(situation.suggestions[0]).toMatchObject({ itemId: 'sfz-04', situation: '在非户籍地异地补领', askCaller: [] });
    expect(situation.suggestions[0]!.text).toContain('无需提供户口簿');
    const materials = await assist('要带什么', 'call-A');
    expect(materials.suggestions[0]).toMatchObject({ itemId: 'sfz-04', aspect: 'materials', situation: '在非户籍地异地补领' });

    // Another call, and no call at all, know nothing of it.
    for (const other of [await assist('要多少钱', 'call-B'), await assist('要多少钱')]) {
      expect(other.suggestions.map((s) => s.itemId)).not.toContain('sfz-04');
      expect(other.unanswered).toBe(true);
    }
  });

  it('says there is no reliable answer for nonsense and logs it as unanswered, numbers masked', async () => {
    const r = await assist('啊啊啊呜呜呜咯咯 我电话13812345678', 'call-nonsense');
    expect(r).toMatchObject({ suggestions: [], unanswered: true, emergency: null });
    const { rows } = await t.server.db.query<{ text: string; unanswered: boolean; actor: string; call_id: string }>(
      'SELECT text, unanswered, actor, call_id FROM assist_utterances WHERE id = $1',
      [r.utteranceId],
    );
    expect(rows[0]).toEqual({ text: '啊啊啊呜呜呜咯咯 我电话138****5678', unanswered: true, actor: 'wang', call_id: 'call-nonsense' });
    const logged = await t.server.db.query<{ text: string; intent: string }>(`SELECT text, intent FROM question_log WHERE channel = 'hotline' AND text LIKE '啊啊啊%'`);
    expect(logged.rows).toEqual([{ text: '啊啊啊呜呜呜咯咯 我电话138****5678', intent: 'clarify' }]);
    expect(JSON.stringify((await t.server.db.query('SELECT * FROM assist_utterances')).rows)).not.toContain('13812345678');
  });

  it('stores 采纳 / 修改后采纳 / 无用 with the item and the utterance; 采纳 of another suggestion moves the call to its item', async () => {
    const r = await assist('身份证丢了怎么补办 身份证号110101199003071234', 'call-F');
    const [a, b, c] = r.suggestions;
    const adopted = await post('/api/assist/feedback', { suggestionId: b!.id, verdict: 'adopted' });
    expect(adopted.status).toBe(200);
    expect(adopted.body.feedback).toMatchObject({ suggestionId: b!.id, itemId: b!.itemId, verdict: 'adopted', callId: 'call-F', utterance: '身份证丢了怎么补办 身份证号110101********1234' });
    const edited = await post('/api/assist/feedback', { suggestionId: a!.id, verdict: 'edited', editedText: '补领工本费40元，可打13812345678咨询' });
    expect(edited.status).toBe(200);
    const useless = await post('/api/assist/feedback', { callId: 'call-F', utterance: '身份证丢了怎么补办 身份证号110101199003071234', itemId: c!.itemId, verdict: 'useless' });
    expect(useless.status).toBe(200);
    expect(useless.body.feedback.suggestionId).toBe(c!.id);
    // A second verdict on the same suggestion replaces the first.
    expect((await post('/api/assist/feedback', { suggestionId: b!.id, verdict: 'adopted' })).status).toBe(200);

    const { rows } = await t.server.db.query<{ item_id: string; utterance: string; verdict: string; edited_text: string | null; actor: string; suggestion: string }>(
      `SELECT item_id, utterance, verdict, edited_text, actor, suggestion FROM assist_feedback WHERE call_id = 'call-F' ORDER BY rank`,
    );
    expect(rows.map((x) => [x.item_id, x.verdict, x.edited_text, x.actor])).toEqual([
      [a!.itemId, 'edited', '补领工本费40元，可打138****5678咨询', 'wang'],
      [b!.itemId, 'adopted', null, 'wang'],
      [c!.itemId, 'useless', null, 'wang'],
    ]);
    expect(rows.every((x) => x.utterance === '身份证丢了怎么补办 身份证号110101********1234')).toBe(true);
    expect(rows[0]!.suggestion).toBe(a!.text);
    const audit = await listAudit(t.server.db, { actor: 'wang', action: 'assist.feedback' });
    expect(audit.map((e) => e.target)).toEqual(expect.arrayContaining([a!.id, b!.id, c!.id]));

    // The staff member chose the second suggestion: the call is about its item now.
    const fee = await assist('要多少钱', 'call-F');
    expect(fee.suggestions[0]!.itemId).toBe(b!.itemId);

    expect((await post('/api/assist/feedback', { suggestionId: '999999-1', verdict: 'adopted' })).status).toBe(404);
    expect((await post('/api/assist/feedback', { callId: 'call-F', utterance: '没说过的话', itemId: 'sfz-04', verdict: 'adopted' })).status).toBe(404);
  });

  it('lets hotline staff and hotline systems in, and nobody else', async () => {
    const body = JSON.stringify({ text: '身份证丢了怎么补办' });
    const json = { 'content-type': 'application/json' };
    expect((await post('/api/assist', body, json)).status).toBe(401);
    expect((await post('/api/assist', body, { ...json, authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await post('/api/assist/feedback', { suggestionId: '1-1', verdict: 'adopted' }, { ...json, authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const system = await post('/api/assist', body, { ...json, authorization: `Bearer ${ASSIST_TOKEN}` });
    expect(system.status).toBe(200);
    expect(system.body.suggestions).toHaveLength(3);
    const byAssistToken = await post('/api/assist/feedback', { suggestionId: system.body.suggestions[0].id, verdict: 'adopted' }, { ...json, authorization: `Bearer ${ASSIST_TOKEN}` });
    expect(byAssistToken.status).toBe(200);
    expect(byAssistToken.body.feedback).toMatchObject({ verdict: 'adopted' });
    expect((await post('/api/assist', body, { ...json, authorization: `Bearer ${STAFF_TOKEN}` })).status).toBe(200);
    // The assist token opens the assistant only.
    expect((await fetch(`${t.base}/api/staff/me`, { headers: { authorization: `Bearer ${ASSIST_TOKEN}` } })).status).toBe(401);

    const agent = await login('zhao', 'agent-password-12');
    const asAgent = { ...json, cookie: agent.cookie, origin: t.base, 'x-csrf-token': agent.csrf };
    const refused = await post('/api/assist', body, asAgent);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('hotline');
    expect((await post('/api/assist/feedback', { suggestionId: '1-1', verdict: 'adopted' }, asAgent)).status).toBe(403);
    // A hotline session without its CSRF token is refused too.
    const s = await session();
    expect((await post('/api/assist', body, { ...json, cookie: s.cookie, origin: t.base })).status).toBe(403);
  });

  it('answers bad input with 400 and a clear message', async () => {
    const bad: Array<[string, unknown]> = [
      ['/api/assist', '{"text": '],
      ['/api/assist', []],
      ['/api/assist', {}],
      ['/api/assist', { text: '   ' }],
      ['/api/assist', { text: 42 }],
      ['/api/assist', { text: '身'.repeat(2001) }],
      ['/api/assist', { text: '身份证丢了', callId: 'bad id with spaces' }],
      ['/api/assist', { text: '身份证丢了', callId: 7 }],
      ['/api/assist', { text: '身份证丢了', callId: 'x'.repeat(65) }],
      ['/api/assist', { text: '身份证丢了', callId: '13812345678' }],
      ['/api/assist', { text: '身份证丢了\u0000' }],
      ['/api/assist/feedback', {}],
      ['/api/assist/feedback', { suggestionId: '1-1' }],
      ['/api/assist/feedback', { suggestionId: '1-1', verdict: 'great' }],
      ['/api/assist/feedback', { suggestionId: 'abc', verdict: 'adopted' }],
      ['/api/assist/feedback', { suggestionId: '1-4', verdict: 'adopted' }],
      ['/api/assist/feedback', { suggestionId: '1-1', verdict: 'adopted', editedText: '改过的' }],
      ['/api/assist/feedback', { suggestionId: '1-1', verdict: 'edited', editedText: '' }],
      ['/api/assist/feedback', { verdict: 'adopted' }],
      ['/api/assist/feedback', { callId: 'call-A', utterance: '要多少钱', verdict: 'adopted' }],
      ['/api/assist/feedback', { callId: 'call-A', itemId: 'sfz-04', verdict: 'adopted' }],
      ['/api/assist/feedback', { utterance: '要多少钱', itemId: 'sfz-04', verdict: 'adopted' }],
    ];
    for (const [p, body] of bad) {
      const r = await post(p, body);
      expect(r.status, `${p} ${JSON.stringify(body)}`).toBe(400);
      expect(typeof r.body.error).toBe('string');
      expect(r.body.error.length).toBeGreaterThan(5);
    }
  });
});
