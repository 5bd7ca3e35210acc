/** Staff login with roles, hashed passwords and sessions that expire; the desk page behind it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../bot/server/start.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff, checkPassword, hashPassword } from '../../../bot/store/staff.ts';
import { removeDir, testConfig } from '../../helpers/kb.ts';

describe('password hashing', () => {
  it('salts every hash and checks in constant time', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await checkPassword('correct horse battery', a)).toBe(true);
    expect(await checkPassword('wrong horse battery', a)).toBe(false);
    expect(await checkPassword('x', 'plain-text')).toBe(false);
  });
});

describe('staff login and roles', () => {
  const config = testConfig({ STAFF_SESSION_HOURS: '0.0008' }); // about 3 seconds
  let server: RunningServer;
  let base = '';
  beforeAll(async () => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler'], 'cli', { unit: 'sj' });
    await addStaff(db, 'li', 'supervisor-password-1', ['supervisor'], 'cli', { unit: 'sj' });
    await db.close();
    server = await startServer({ ...config, port: 0 }, { handleSignals: false, quiet: true });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    removeDir(config.dataDir);
  });

  const loginAs = async (username: string, password: string) => {
    const res = await fetch(`${base}/staff/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ username, password }),
      redirect: 'manual',
    });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csrf = cookie ? ((await (await fetch(`${base}/api/staff/me`, { headers: { cookie } })).json()) as { csrfToken: string }).csrfToken : '';
    return { res, cookie, csrf };
  };
  /** A change from our own page: same Origin, the session cookie and its CSRF token. */
  const change = (path: string, s: { cookie: string; csrf: string }) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { cookie: s.cookie, origin: base, 'x-csrf-token': s.csrf } });

  it('keeps the desk page and the staff API behind a login', async () => {
    const page = await fetch(`${base}/staff/`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/staff/login');
    expect((await fetch(`${base}/api/staff/cases`)).status).toBe(401);
    expect((await fetch(`${base}/staff/login`)).status).toBe(200);
    // No inline script on the login page: the CSP forbids it.
    expect(await (await fetch(`${base}/staff/login`)).text()).not.toMatch(/<script>|\son\w+=|style=/);
  });

  it('refuses a wrong password and lets a right one in with an HttpOnly session', async () => {
    const bad = await loginAs('zhang', 'not-the-password');
    expect(bad.res.headers.get('location')).toBe('/staff/login?error=1');
    expect(bad.cookie).toBe('');
    const good = await loginAs('zhang', 'handler-password-1');
    expect(good.res.headers.get('location')).toBe('/staff/');
    expect(good.res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    // Plain HTTP without a trusted proxy: no Secure flag, or the browser would drop the cookie.
    expect(good.res.headers.get('set-cookie')).not.toMatch(/Secure/);
    const me = await (await fetch(`${base}/api/staff/me`, { headers: { cookie: good.cookie } })).json();
    expect(me).toEqual({ username: 'zhang', roles: ['handler'], unit: 'sj', displayName: null, role: 'handler', csrfToken: good.csrf });
    expect(good.csrf).toMatch(/^[\w-]{32}$/);
    expect((await fetch(`${base}/staff/`, { headers: { cookie: good.cookie } })).status).toBe(200);
    expect((await fetch(`${base}/api/staff/cases`, { headers: { cookie: good.cookie } })).status).toBe(200);
  });

  it('lets supervisors watch but only handlers act', async () => {
    const sup = await loginAs('li', 'supervisor-password-1');
    expect((await fetch(`${base}/api/staff/cases`, { headers: { cookie: sup.cookie } })).status).toBe(200);
    const act = await change('/api/staff/cases/XA1/accept', sup);
    expect(act.status).toBe(403);
    expect((await act.json()).error).toContain('only case handlers');
    const handler = await loginAs('zhang', 'handler-password-1');
    const missing = await change('/api/staff/cases/XA-NONE/accept', handler);
    expect(missing.status).toBe(404);
  });

  it('answers bad input with a clear 4xx, never a 500', async () => {
    const post = (body: string, type: string) => fetch(`${base}/staff/login`, { method: 'POST', headers: { 'content-type': type, origin: base }, body, redirect: 'manual' });
    const form = 'application/x-www-form-urlencoded';
    const bad: Array<[string, string]> = [['', form], ['username=zhang', form], ['{"username":"zhang"}', 'application/json'], [`username=${'z'.repeat(5000)}&password=x`, form]];
    for (const [body, type] of bad) {
      const res = await post(body, type);
      expect(res.status, body.slice(0, 30)).toBe(303);
      expect(res.headers.get('location')).toBe('/staff/login?error=1');
    }
    expect((await fetch(`${base}/api/staff/me`, { headers: { cookie: 'xiaoan_staff=%E0%A4%A' } })).status).toBe(401);
    const s = await loginAs('zhang', 'handler-password-1');
    const c = await server.engine.desk!.create(
      { type: '投诉', description: '人民路上的KTV每天半夜噪音扰民，影响休息', citizen: { id: 'web:x', mobile: '13800001111', consentToContact: true } },
      'staff-test-bad-input',
    );
    const note = await fetch(`${base}/api/staff/cases/${c.id}/reply`, {
      method: 'POST',
      headers: { cookie: s.cookie, origin: base, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 42 }),
    });
    expect(note.status).toBe(400);
  });

  it('ends sessions when they expire and on logout', async () => {
    const a = await loginAs('zhang', 'handler-password-1');
    const logout = (body: Record<string, string>) =>
      fetch(`${base}/staff/logout`, {
        method: 'POST',
        headers: { cookie: a.cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
        redirect: 'manual',
      });
    // The logout form must carry the session's token; without it the session lives on.
    expect((await logout({})).status).toBe(403);
    expect((await fetch(`${base}/api/staff/me`, { headers: { cookie: a.cookie } })).status).toBe(200);
    const out = await logout({ _csrf: a.csrf });
    expect(out.status).toBe(303);
    expect((await fetch(`${base}/api/staff/me`, { headers: { cookie: a.cookie } })).status).toBe(401);
    const b = await loginAs('zhang', 'handler-password-1');
    expect((await fetch(`${base}/api/staff/me`, { headers: { cookie: b.cookie } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3500));
    const expired = await fetch(`${base}/api/staff/me`, { headers: { cookie: b.cookie } });
    expect(expired.status).toBe(401);
    expect((await expired.json()).error).toContain('expired');
  });
});
