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
    await addStaff(db, 'zhang', 'handler-password-1', 'handler');
    await addStaff(db, 'li', 'supervisor-password-1', 'supervisor');
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
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }),
      redirect: 'manual',
    });
    return { res, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]! };
  };

  it('keeps the desk page and the staff API behind a login', async () => {
    const page = await fetch(`${base}/staff/`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/staff/login');
    expect((await fetch(`${base}/api/staff/cases`)).status).toBe(401);
    expect((await fetch(`${base}/staff/login`)).status).toBe(200);
  });

  it('refuses a wrong password and lets a right one in with an HttpOnly session', async () => {
    const bad = await loginAs('zhang', 'not-the-password');
    expect(bad.res.headers.get('location')).toBe('/staff/login?error=1');
    expect(bad.cookie).toBe('');
    const good = await loginAs('zhang', 'handler-password-1');
    expect(good.res.headers.get('location')).toBe('/staff/');
    expect(good.res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const me = await (await fetch(`${base}/api/staff/me`, { headers: { cookie: good.cookie } })).json();
    expect(me).toEqual({ username: 'zhang', role: 'handler' });
    expect((await fetch(`${base}/staff/`, { headers: { cookie: good.cookie } })).status).toBe(200);
    expect((await fetch(`${base}/api/staff/cases`, { headers: { cookie: good.cookie } })).status).toBe(200);
  });

  it('lets supervisors watch but only handlers act', async () => {
    const sup = await loginAs('li', 'supervisor-password-1');
    expect((await fetch(`${base}/api/staff/cases`, { headers: { cookie: sup.cookie } })).status).toBe(200);
    const act = await fetch(`${base}/api/staff/cases/XA1/accept`, { method: 'POST', headers: { cookie: sup.cookie } });
    expect(act.status).toBe(403);
    const handler = await loginAs('zhang', 'handler-password-1');
    const missing = await fetch(`${base}/api/staff/cases/XA-NONE/accept`, { method: 'POST', headers: { cookie: handler.cookie } });
    expect(missing.status).toBe(404);
  });

  it('ends sessions when they expire and on logout', async () => {
    const a = await loginAs('zhang', 'handler-password-1');
    const out = await fetch(`${base}/staff/logout`, { method: 'POST', headers: { cookie: a.cookie }, redirect: 'manual' });
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
