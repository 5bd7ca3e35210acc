/**
 * The unanswered loop over HTTP: questions 小安 answered with low confidence and a hotline
 * suggestion marked 无用 cluster together (a question answered 都不是 is collected too); an editor links the cluster to 普通护照首次申领, the
 * draft is reviewed and published, the questions are asked again and the cluster is fixed.
 * Another cluster is dismissed.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { useTestServer } from '../../helpers/server.ts';
import { staffLogin } from '../../helpers/staff.ts';

describe('知识库: the unanswered loop', () => {
  const t = useTestServer({}, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'li', 'editor-password-1', ['editor']);
    await addStaff(db, 'wang', 'editor-password-2', ['editor']);
    await addStaff(db, 'sun', 'hotline-password-1', ['hotline']);
    await db.close();
  });
  const ask = async (text: string) =>
    (await (await fetch(`${t.base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ text }) })).json()) as { intent: string; confidence: number; item: { id: string } | null };

  it('clusters what was not answered, links it to an item, and marks it fixed once the release is in force', async () => {
    const passport = ['出国的小红本本咋整', '小红本本怎么申请出国用'];
    for (const q of passport) expect((await ask(q)).item?.id, q).not.toBe('crj-01');
    await ask('出国的小红本本咋整');
    await ask('营业执照怎么办理');
    // A caller's words the hotline assistant had no reliable suggestion for join the same
    // cluster; a suggestion marked 无用 is collected too.
    const sun = await staffLogin(t.base, 'sun', 'hotline-password-1');
    expect((await sun.post('/api/assist', { text: '来电人问出国的小红本本在哪办' })).body.unanswered).toBe(true);
    const assisted = (await sun.post('/api/assist', { text: '身份证丢了怎么补办' })).body;
    expect(assisted.suggestions.length).toBeGreaterThan(0);
    expect((await sun.post('/api/assist/feedback', { suggestionId: assisted.suggestions[0].id, verdict: 'useless' })).status).toBe(200);

    // 都不是 on a clarification menu: the question before it is collected; one whose menu
    // the citizen answered with an item is not.
    const chat = async (cookie: string, body: Record<string, unknown>) => {
      const res = await fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.base, connection: 'close', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
      const r = (await res.json()) as { replies: Array<{ items?: Array<{ id: string }> }> };
      return { cookie: cookie || (res.headers.get('set-cookie') ?? '').split(';')[0]!, menu: r.replies.flatMap((x) => x.items ?? []).map((i) => i.id) };
    };
    const first = await chat('', { text: '证件丢了要补办' });
    expect(first.menu).toContain('none');
    await chat(first.cookie, { menuId: 'none' });
    const second = await chat('', { text: '我想补办一下' });
    await chat(second.cookie, { menuId: second.menu.find((id) => id.startsWith('item:'))! });

    const li = await staffLogin(t.base, 'li', 'editor-password-1');
    expect((await li.get('/api/staff/knowledge/unanswered?status=lost')).status).toBe(400);
    const open = (await li.get('/api/staff/knowledge/unanswered?status=open')).body.clusters;
    const cluster = open.find((c: { label: string }) => c.label === '出国的小红本本咋整');
    expect(cluster, JSON.stringify(open)).toBeDefined();
    expect(cluster.questions.map((q: { text: string }) => q.text)).toEqual(expect.arrayContaining(passport));
    expect(cluster.questions[0]).toMatchObject({ text: '出国的小红本本咋整', count: 2, sources: ['question'] });
    expect(cluster.asked).toBeGreaterThanOrEqual(3);
    expect(cluster.questions.some((q: { sources: string[] }) => q.sources.includes('hotline_unanswered'))).toBe(true);
    expect(open.find((c: { label: string }) => c.label === '身份证丢了怎么补办')?.questions[0].sources).toEqual(['hotline_useless']);
    expect(open.find((c: { label: string }) => c.label === '证件丢了要补办')?.questions[0].sources).toEqual(['none_of_these']);
    expect(open.flatMap((c: { questions: Array<{ text: string; sources: string[] }> }) => c.questions).filter((q: { sources: string[] }) => q.sources.includes('none_of_these')).map((q: { text: string }) => q.text)).toEqual(['证件丢了要补办']);
    // The most asked first; collected once however often the list is read.
    expect(open[0].id).toBe(cluster.id);
    expect((await li.get('/api/staff/knowledge/unanswered')).body.clusters.find((c: { id: number }) => c.id === cluster.id).asked).toBe(cluster.asked);

    const other = open.find((c: { label: string }) => c.label === '营业执照怎么办理');
    expect((await li.post(`/api/staff/knowledge/unanswered/${other.id}/dismiss`, { note: '市场监管部门的事项' })).body).toMatchObject({ status: 'dismissed', handledBy: 'li' });
    expect((await li.post(`/api/staff/knowledge/unanswered/${other.id}/link`, { itemId: 'crj-01' })).status).toBe(409);

    const linked = (await li.post(`/api/staff/knowledge/unanswered/${cluster.id}/link`, { itemId: 'crj-01' })).body;
    expect(linked.cluster).toMatchObject({ status: 'drafted', itemId: 'crj-01' });
    expect(linked.added).toEqual(expect.arrayContaining(passport));
    const draft = linked.draft.id as number;
    expect((await li.post(`/api/staff/knowledge/drafts/${draft}/submit`)).status).toBe(200);
    const wang = await staffLogin(t.base, 'wang', 'editor-password-2');
    expect((await wang.post(`/api/staff/knowledge/drafts/${draft}/gate`)).body).toMatchObject({ valid: true, blocked: false });
    expect((await wang.post(`/api/staff/knowledge/drafts/${draft}/approve`)).status).toBe(200);
    expect((await wang.post(`/api/staff/knowledge/drafts/${draft}/publish`)).status).toBe(200);

    for (const q of passport) expect((await ask(q)).item?.id, q).toBe('crj-01');
    const fixed = (await li.get('/api/staff/knowledge/unanswered?status=fixed')).body.clusters;
    expect(fixed.map((c: { id: number }) => c.id)).toEqual([cluster.id]);
    expect(fixed[0].lastCheck).toMatchObject({ reached: expect.any(Number), of: fixed[0].questions.length });
    expect(fixed[0].fixedRelease).toEqual(expect.any(Number));
  }, 120_000);
});
