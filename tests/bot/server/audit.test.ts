/**
 * The audit log: every audited staff action leaves a row (who, what, which, when, from
 * where), supervisors read it with filters, handlers cannot, and the database itself refuses
 * to change or delete a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../bot/store/database.ts';
import { appendAudit, listAudit, type AuditRow } from '../../../bot/store/audit.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { testStores } from '../../helpers/databases.ts';
import { useTestServer } from '../../helpers/server.ts';

const STAFF_TOKEN = 'staff-token-0123456789';
const CHAT_TOKEN = 'chat-token-0123456789';

describe('the audit log over HTTP', () => {
  const t = useTestServer({ STAFF_API_TOKEN: STAFF_TOKEN, CHAT_API_TOKEN: CHAT_TOKEN, HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时' }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler'], 'cli', { unit: 'sj' });
    await addStaff(db, 'li', 'supervisor-password-1', ['supervisor'], 'cli', { unit: 'sj' });
    await db.close();
  });

  type Session = { cookie: string; csrf: string };
  const loginAs = async (username: string, password: string): Promise<Session> => {
    const res = await fetch(`${t.base}/staff/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.base },
      body: new URLSearchParams({ username, password }),
      redirect: 'manual',
    });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csrf = cookie ? ((await (await fetch(`${t.base}/api/staff/me`, { headers: { cookie } })).json()) as { csrfToken: string }).csrfToken : '';
    return { cookie, csrf };
  };
  const get = (s: Session, path: string) => fetch(`${t.base}/api/staff/${path}`, { headers: { cookie: s.cookie } });
  const post = (s: Session, path: string, body: unknown = {}) =>
    fetch(`${t.base}/api/staff/${path}`, { method: 'POST', headers: { cookie: s.cookie, origin: t.base, 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const chat = (userId: string, text: string) =>
    fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_TOKEN}` }, body: JSON.stringify({ userId, text }) });
  const readAudit = async (s: Session, query = '') => {
    const res = await get(s, `audit${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as { entries: AuditRow[] }).entries;
  };

  let caseId = '';
  beforeAll(async () => {
    caseId = (await t.server.engine.desk!.create(
      { type: '举报', description: '小区地下室每天晚上有人聚众赌博，请派人查处', citizen: { id: 'citizen-a', mobile: '13812345678', name: '王女士', consentToContact: true }, channel: 'web' },
      'audit-case-1',
    )).id;
  });

  it('records logins, views, contact reveals, case actions, releases and logouts', async () => {
    await loginAs('zhang', 'not-the-password');
    const zhang = await loginAs('zhang', 'handler-password-1');
    const li = await loginAs('li', 'supervisor-password-1');

    expect((await get(zhang, 'cases')).status).toBe(200);
    expect((await get(zhang, `cases/${caseId}`)).status).toBe(200);
    // Handlers and supervisors may reveal the citizen's contact; each reveal is audited.
    for (const s of [zhang, li]) {
      const res = await post(s, `cases/${caseId}/contact`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ caseId, mobile: '13812345678', name: '王女士', consentToContact: true, channel: 'web' });
    }
    expect((await post(zhang, 'cases/XA-NONE/contact')).status).toBe(404);
    for (const [action, body] of [['accept', {}], ['start', {}], ['reply', { note: '已查处，如有再犯请致电 13912345678 反映。' }], ['close', {}]] as const) {
      const res = await post(zhang, `cases/${caseId}/${action}`, body);
      expect(res.status, action).toBe(200);
    }

    // A supervisor may not hand a chat back to the bot; the chat stays with staff.
    await chat('ho-a', '户口迁移怎么办');
    await chat('ho-a', '转人工');
    const denied = await post(li, 'conversations/api/ho-a/release');
    expect(denied.status).toBe(403);
    const queue = (await (await get(li, 'handoffs')).json()) as { handoffs: Array<{ userId: string }> };
    expect(queue.handoffs.map((h) => h.userId)).toContain('ho-a');
    expect((await post(zhang, 'conversations/api/ho-a/release')).status).toBe(200);

    const out = await fetch(`${t.base}/staff/logout`, {
      method: 'POST',
      headers: { cookie: zhang.cookie, origin: t.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: zhang.csrf }),
      redirect: 'manual',
    });
    expect(out.status).toBe(303);

    const entries = await readAudit(li, '?limit=1000');
    const seen = entries.map((e) => `${e.actor} ${e.action} ${e.outcome}${e.target ? ` ${e.target}` : ''}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'zhang login failed',
        'zhang login ok',
        'li login ok',
        'zhang case.list ok',
        `zhang case.view ok ${caseId}`,
        `zhang case.contact ok ${caseId}`,
        `li case.contact ok ${caseId}`,
        'zhang case.contact failed XA-NONE',
        `zhang case.accept ok ${caseId}`,
        `zhang case.start ok ${caseId}`,
        `zhang case.reply ok ${caseId}`,
        `zhang case.close ok ${caseId}`,
        'li access denied /api/staff/conversations/api/ho-a/release',
        'li handoffs.list ok',
        'zhang conversation.release ok api/ho-a',
        'zhang logout ok',
      ]),
    );
    // Newest first, each with a time and the client address.
    expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => b - a));
    expect(entries[0]).toMatchObject({ actor: 'zhang', action: 'logout' });
    for (const e of entries) {
      expect(new Date(e.at).getTime()).toBeGreaterThan(Date.now() - 600_000);
      // The seeded accounts came from the CLI, which has no client address.
      if (e.actor === 'cli') expect(e).toMatchObject({ action: 'staff.create', address: null });
      else expect(e.address).toMatch(/127\.0\.0\.1$/);
    }
    // Personal numbers never reach the log: the reply's number is masked, a reveal logs no number.
    const reply = entries.find((e) => e.action === 'case.reply')!;
    expect(reply.details.note).toContain('139****5678');
    expect(JSON.stringify(entries)).not.toMatch(/13812345678|13912345678/);
  });

  it('lets supervisors filter by actor, action and time, and refuses bad filters with 400', async () => {
    const li = await loginAs('li', 'supervisor-password-1');
    const logins = await readAudit(li, '?actor=li&action=login');
    expect(logins.length).toBeGreaterThanOrEqual(2);
    expect(logins.every((e) => e.actor === 'li' && e.action === 'login')).toBe(true);
    expect(await readAudit(li, '?actor=li&action=login&limit=1')).toEqual([logins[0]]);
    const first = logins.at(-1)!;
    expect((await readAudit(li, `?actor=li&action=login&until=${encodeURIComponent(first.at)}`)).length).toBe(0);
    expect((await readAudit(li, `?actor=li&action=login&since=${encodeURIComponent(first.at)}`)).length).toBe(logins.length);
    expect(await readAudit(li, '?since=2999-01-01')).toEqual([]);
    for (const bad of ['?since=yesterday', '?until=2025-13-45T99:00', '?limit=0', '?limit=1001', '?limit=ten', '?actor=a&actor=b']) {
      const res = await get(li, `audit${bad}`);
      expect(res.status, bad).toBe(400);
      expect((await res.json()).error).toBeTruthy();
    }
    // Reading the log is itself recorded.
    expect((await readAudit(li, '?action=audit.view&limit=1'))[0]).toMatchObject({ actor: 'li', action: 'audit.view' });
  });

  it('refuses the log to handlers and systems, and no method changes it', async () => {
    const zhang = await loginAs('zhang', 'handler-password-1');
    expect((await get(zhang, 'audit')).status).toBe(403);
    expect((await fetch(`${t.base}/api/staff/audit`, { headers: { authorization: `Bearer ${STAFF_TOKEN}` } })).status).toBe(403);

    const li = await loginAs('li', 'supervisor-password-1');
    const before = (await listAudit(t.server.db, { limit: 1000 })).length;
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await fetch(`${t.base}/api/staff/audit`, { method, headers: { cookie: li.cookie, origin: t.base, 'x-csrf-token': li.csrf } });
      expect(res.status, method).toBe(404);
    }
    expect((await listAudit(t.server.db, { limit: 1000 })).length).toBe(before);
  });

  it('sends no-store on every staff API answer and staff page', async () => {
    const li = await loginAs('li', 'supervisor-password-1');
    for (const path of ['/api/staff/me', '/api/staff/audit', '/api/staff/cases', '/staff/', '/staff/login', '/staff/desk.js']) {
      const res = await fetch(`${t.base}${path}`, { headers: { cookie: li.cookie } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
    expect((await fetch(`${t.base}/api/staff/me`)).headers.get('cache-control')).toBe('no-store');
  });
});

describe.each(testStores)('the audit table is append-only ($name)', (store) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await store.open());
  });
  afterAll(async () => cleanup?.());

  it('refuses UPDATE, DELETE and TRUNCATE, whoever sends them', async () => {
    await appendAudit(db, { actor: 'zhang', action: 'case.view', target: 'XA1', address: '10.0.0.1', details: { note: '身份证 110101199003071234' } });
    for (const sql of ["UPDATE audit_log SET actor = 'someone-else'", 'DELETE FROM audit_log', 'TRUNCATE audit_log']) {
      await expect(db.query(sql), sql).rejects.toThrow(/append-only/);
    }
    const rows = await listAudit(db);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'zhang', action: 'case.view', target: 'XA1', address: '10.0.0.1', outcome: 'ok', details: { note: '身份证 110101********1234' } });
  });
});
