/**
 * 账号管理 over real HTTP: an admin creates accounts, changes roles, unit and name, resets a
 * password (the old sessions end) and disables or enables an account, all in the running
 * server, every change CSRF-protected and audited; an admin cannot lock the bureau out. The
 * same rules in the store on PGlite and PostgreSQL, and `xiaoan staff` beside a running server (through it).
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { listAudit } from '../../../bot/store/audit.ts';
import { addStaff, getStaff, listStaff, login, setStaffDisabled, StaffError, updateStaff } from '../../../bot/store/staff.ts';
import { testStores } from '../../helpers/databases.ts';
import { useTestServer } from '../../helpers/server.ts';
import { staffLogin, type StaffClient } from '../../helpers/staff.ts';

const ADMIN = ['root', 'admin-password-1'] as const;
const STAFF_TOKEN = 'staff-token-0123456789';

describe('账号管理 over HTTP', () => {
  const t = useTestServer({ STAFF_API_TOKEN: STAFF_TOKEN }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, ...ADMIN, ['admin']);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler']);
    await addStaff(db, 'li', 'supervisor-password-1', ['supervisor']);
    await db.close();
  });
  const admin = () => staffLogin(t.base, ...ADMIN);
  const me = (cookie: string) => fetch(`${t.base}/api/staff/me`, { headers: { cookie } });
  const canLogIn = (username: string, password: string) =>
    staffLogin(t.base, username, password).then(
      () => true,
      () => false,
    );
  const create = (a: StaffClient, username: string, o: Record<string, unknown> = {}) =>
    a.post('/api/staff/accounts', { username, password: `${username}-password-1`, roles: ['agent'], ...o });

  it('lists the accounts and the units an account may belong to', async () => {
    const a = await admin();
    const list = await a.get('/api/staff/accounts');
    expect(list.status).toBe(200);
    const root = list.body.accounts.find((x: { username: string }) => x.username === 'root');
    expect(root).toMatchObject({ username: 'root', roles: ['admin'], unit: null, unitName: null, displayName: null, disabled: false });
    expect(new Date(root.createdAt).getTime()).toBeLessThanOrEqual(Date.now());
    // The login just now is the last one.
    expect(Date.now() - new Date(root.lastLoginAt).getTime()).toBeLessThan(60_000);
    expect(list.body.accounts.find((x: { username: string }) => x.username === 'zhang').lastLoginAt).toBeNull();

    const units = await a.get('/api/staff/units');
    expect(units.status).toBe(200);
    expect(units.body.units).toContainEqual({ id: 'pcs-renmin', name: '人民路派出所' });
    expect(units.body.units.length).toBeGreaterThanOrEqual(15);
  });

  it('creates an account that can log in at once; an existing name is 409, bad input 400 in Chinese', async () => {
    const a = await admin();
    const made = await a.post('/api/staff/accounts', { username: 'chen', password: 'agent-password-1', roles: ['agent', 'hotline'], unit: 'pcs-renmin', displayName: ' 陈警官 ' });
    expect(made.status).toBe(201);
    expect(made.body.account).toMatchObject({ username: 'chen', roles: ['agent', 'hotline'], unit: 'pcs-renmin', unitName: '人民路派出所', displayName: '陈警官', disabled: false, lastLoginAt: null });
    const chen = await staffLogin(t.base, 'chen', 'agent-password-1');
    expect((await chen.get('/api/staff/me')).body).toMatchObject({ username: 'chen', roles: ['agent', 'hotline'] });

    const again = await a.post('/api/staff/accounts', { username: 'chen', password: 'other-password-1', roles: ['admin'] });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('账号 chen 已存在');
    // The existing account is untouched: the same password, the same roles, the session lives.
    expect((await me(chen.cookie)).status).toBe(200);
    expect((await getStaff(t.server.db, 'chen'))?.roles).toEqual(['agent', 'hotline']);

    const bad = async (body: Record<string, unknown>, error: RegExp) => {
      const r = await a.post('/api/staff/accounts', { username: 'zhou', password: 'agent-password-1', roles: ['agent'], ...body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatch(error);
    };
    await bad({ roles: ['agent', 'root'] }, /未知角色 root/);
    await bad({ roles: [] }, /至少选择一个角色/);
    await bad({ roles: 'agent' }, /roles 必须是/);
    await bad({ roles: undefined }, /roles 必须是/);
    await bad({ unit: 'nowhere' }, /未知单位 nowhere/);
    await bad({ unit: 7 }, /未知单位/);
    await bad({ password: 'short-pw' }, /密码至少 10 个字符/);
    await bad({ password: undefined }, /请填写密码/);
    await bad({ username: 'a b' }, /用户名须为/);
    await bad({ username: undefined }, /请填写用户名/);
    await bad({ displayName: 'x'.repeat(41) }, /姓名不能超过 40/);
    await bad({ displayName: 'a\u0000b' }, /无效字符/);
    expect(await getStaff(t.server.db, 'zhou')).toBeNull();
    // An empty unit is no unit.
    const none = await create(a, 'zhou', { unit: '' });
    expect(none.status).toBe(201);
    expect(none.body.account).toMatchObject({ unit: null, unitName: null });
  });

  it('changes roles, unit and name; the account’s open session has the new roles at once', async () => {
    const a = await admin();
    await create(a, 'sun', { unit: 'zwzx' });
    const sun = await staffLogin(t.base, 'sun', 'sun-password-1');
    expect((await sun.get('/api/staff/inbox')).status).toBe(200);

    const r = await a.post('/api/staff/accounts/sun', { roles: ['handler', 'supervisor'], unit: 'huzheng', displayName: '孙办理' });
    expect(r.status).toBe(200);
    expect(r.body.account).toMatchObject({ username: 'sun', roles: ['handler', 'supervisor'], unit: 'huzheng', unitName: '市公安局户政管理支队', displayName: '孙办理' });
    expect((await sun.get('/api/staff/me')).body.roles).toEqual(['handler', 'supervisor']);
    expect((await sun.get('/api/staff/inbox')).status).toBe(403);
    expect((await sun.get('/api/staff/audit')).status).toBe(200);

    // What is not given stays; empty unit and name clear them.
    const cleared = await a.post('/api/staff/accounts/sun', { unit: '', displayName: '' });
    expect(cleared.body.account).toMatchObject({ roles: ['handler', 'supervisor'], unit: null, displayName: null });

    expect((await a.post('/api/staff/accounts/sun', {})).status).toBe(400);
    expect((await a.post('/api/staff/accounts/sun', { unit: 'nowhere' })).body.error).toMatch(/未知单位/);
    expect((await a.post('/api/staff/accounts/sun', { roles: ['boss'] })).status).toBe(400);
    const pw = await a.post('/api/staff/accounts/sun', { password: 'new-password-123' });
    expect(pw.status).toBe(400);
    expect(pw.body.error).toMatch(/password/);
    const missing = await a.post('/api/staff/accounts/nobody', { roles: ['agent'] });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('没有账号 nobody');
  });

  it('resets a password: every old session ends, the old password fails, the new one logs in', async () => {
    const a = await admin();
    await create(a, 'zhao');
    const s1 = await staffLogin(t.base, 'zhao', 'zhao-password-1');
    const s2 = await staffLogin(t.base, 'zhao', 'zhao-password-1');
    const short = await a.post('/api/staff/accounts/zhao/password', { password: '123456789' });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatch(/至少 10 个字符/);
    expect((await me(s1.cookie)).status).toBe(200);

    const r = await a.post('/api/staff/accounts/zhao/password', { password: 'zhao-new-password' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ account: { username: 'zhao' }, sessionsEnded: 2 });
    for (const s of [s1, s2]) expect((await me(s.cookie)).status).toBe(401);
    expect(await canLogIn('zhao', 'zhao-password-1')).toBe(false);
    expect(await canLogIn('zhao', 'zhao-new-password')).toBe(true);
    expect((await a.post('/api/staff/accounts/nobody/password', { password: 'zhao-new-password' })).status).toBe(404);
  });

  it('disables an account (its sessions end, it cannot log in) and enables it again', async () => {
    const a = await admin();
    await create(a, 'qian');
    const s = await staffLogin(t.base, 'qian', 'qian-password-1');
    const off = await a.post('/api/staff/accounts/qian/disable');
    expect(off.status).toBe(200);
    expect(off.body.account).toMatchObject({ username: 'qian', disabled: true });
    expect((await me(s.cookie)).status).toBe(401);
    expect(await canLogIn('qian', 'qian-password-1')).toBe(false);
    expect((await a.get('/api/staff/accounts')).body.accounts.find((x: { username: string }) => x.username === 'qian').disabled).toBe(true);

    const on = await a.post('/api/staff/accounts/qian/enable');
    expect(on.status).toBe(200);
    expect(on.body.account.disabled).toBe(false);
    expect(await canLogIn('qian', 'qian-password-1')).toBe(true);
    expect((await a.post('/api/staff/accounts/nobody/disable')).status).toBe(404);
    expect((await a.post('/api/staff/accounts/nobody/enable')).status).toBe(404);
  });

  it('never leaves the bureau without an enabled admin', async () => {
    const a = await admin();
    const self = await a.post('/api/staff/accounts/root/disable');
    expect(self.status).toBe(409);
    expect(self.body.error).toMatch(/不能停用自己的账号/);
    const drop = await a.post('/api/staff/accounts/root', { roles: ['supervisor'] });
    expect(drop.status).toBe(409);
    expect(drop.body.error).toMatch(/不能取消自己的系统管理员角色/);
    // Other changes to one's own account are fine.
    expect((await a.post('/api/staff/accounts/root', { roles: ['admin', 'supervisor'], displayName: '管理员' })).status).toBe(200);
    expect((await getStaff(t.server.db, 'root'))?.disabled).toBe(false);

    // Two admins disabling each other at the same moment: one wins, one admin is left.
    await create(a, 'wu', { roles: ['admin'] });
    const wu = await staffLogin(t.base, 'wu', 'wu-password-1');
    const [x, y] = await Promise.all([a.post('/api/staff/accounts/wu/disable'), wu.post('/api/staff/accounts/root/disable')]);
    expect([x.status, y.status].filter((s) => s === 200)).toHaveLength(1);
    const admins = (await listStaff(t.server.db)).filter((u) => u.roles.includes('admin') && !u.disabled);
    expect(admins).toHaveLength(1);
    const left = admins[0]!.username === 'root' ? a : wu;
    const other = left === a ? 'wu' : 'root';
    // The last enabled admin: enabling the other again works; the survivor still cannot go.
    expect((await left.post(`/api/staff/accounts/${other}/enable`)).status).toBe(200);
    if (left !== a) Object.assign(a, await admin());
    expect((await a.post('/api/staff/accounts/wu', { roles: ['agent'] })).status).toBe(200);
    expect((await getStaff(t.server.db, 'wu'))?.roles).toEqual(['agent']);
  });

  it('is for admins only: others get 403, systems with the staff token too; a change without the CSRF token is 403', async () => {
    const zhang = await staffLogin(t.base, 'zhang', 'handler-password-1');
    expect((await zhang.get('/api/staff/accounts')).status).toBe(403);
    expect((await zhang.get('/api/staff/units')).status).toBe(403);
    const denied = await create(zhang, 'hacker');
    expect(denied.status).toBe(403);
    expect((await zhang.post('/api/staff/accounts/zhang', { roles: ['admin'] })).status).toBe(403);
    expect((await zhang.post('/api/staff/accounts/root/disable')).status).toBe(403);
    const bearer = { authorization: `Bearer ${STAFF_TOKEN}`, 'content-type': 'application/json' };
    expect((await fetch(`${t.base}/api/staff/accounts`, { headers: bearer })).status).toBe(403);
    expect((await fetch(`${t.base}/api/staff/accounts`, { method: 'POST', headers: bearer, body: JSON.stringify({ username: 'bot', password: 'bot-password-1', roles: ['admin'] }) })).status).toBe(403);
    expect((await fetch(`${t.base}/api/staff/accounts`)).status).toBe(401);

    const a = await admin();
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${t.base}${path}`, { method: 'POST', headers: { cookie: a.cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username: 'forged', password: 'forged-password-1', roles: ['admin'] }) });
    const noToken = await post('/api/staff/accounts', { origin: t.base });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: string }).error).toMatch(/CSRF/);
    expect((await post('/api/staff/accounts', { origin: 'https://evil.example', 'x-csrf-token': a.csrf })).status).toBe(403);
    expect((await post('/api/staff/accounts/zhang/disable', { origin: t.base })).status).toBe(403);
    expect(await getStaff(t.server.db, 'forged')).toBeNull();
    expect(await getStaff(t.server.db, 'hacker')).toBeNull();
    expect((await getStaff(t.server.db, 'zhang'))?.disabled).toBe(false);
  });

  it('writes every change, refusal and denial to the audit log, with who and from where', async () => {
    const li = await staffLogin(t.base, 'li', 'supervisor-password-1');
    const audit = async (action: string) => (await li.get(`/api/staff/audit?action=${action}&limit=1000`)).body.entries as Array<Record<string, any>>;
    const by = (rows: Array<Record<string, any>>, target: string) => rows.filter((r) => r.target === target && r.outcome === 'ok');

    expect(by(await audit('staff.create'), 'chen')[0]).toMatchObject({
      actor: 'root',
      address: expect.stringMatching(/127\.0\.0\.1/),
      details: { roles: ['agent', 'hotline'], unit: 'pcs-renmin', displayName: '陈警官' },
    });
    const updates = by(await audit('staff.update'), 'sun');
    expect(updates.map((r) => r.details)).toContainEqual({ roles: ['handler', 'supervisor'], unit: 'huzheng', displayName: '孙办理', was: { roles: ['agent'], unit: 'zwzx', displayName: null } });
    expect(by(await audit('staff.password'), 'zhao')[0]).toMatchObject({ actor: 'root', details: { sessionsEnded: 2 } });
    expect(by(await audit('staff.disable'), 'qian')[0]).toMatchObject({ actor: 'root', details: { sessionsEnded: 1 } });
    expect(by(await audit('staff.enable'), 'qian')[0]).toMatchObject({ actor: 'root' });

    // Refusals: failed, with the reason; a name no account could have is not written down.
    const failedCreates = (await audit('staff.create')).filter((r) => r.outcome === 'failed');
    expect(failedCreates).toContainEqual(expect.objectContaining({ actor: 'root', target: 'chen', details: { reason: '账号 chen 已存在' } }));
    expect(failedCreates.find((r) => r.details.reason.startsWith('用户名须为'))?.target).toBeNull();
    expect((await audit('staff.disable')).find((r) => r.target === 'root' && r.outcome === 'failed')?.details.reason).toMatch(/不能停用自己的账号/);
    // A handler's attempt and the CSRF refusals.
    expect((await audit('access')).some((r) => r.actor === 'zhang' && r.target === '/api/staff/accounts' && r.outcome === 'denied')).toBe(true);
    expect((await audit('csrf')).some((r) => r.actor === 'root' && r.target === '/api/staff/accounts' && r.outcome === 'denied')).toBe(true);
    expect((await audit('staff.list')).some((r) => r.actor === 'root')).toBe(true);
  });

  it('xiaoan staff add, disable and enable work beside the running server (PGlite), through it, audited as cli', async () => {
    const run = promisify(execFile);
    const cli = (args: string[], env: Record<string, string> = {}) =>
      run(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js'), 'staff', ...args], {
        env: { ...process.env, DATA_DIR: t.config.dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent', XIAOAN_STAFF_PASSWORD: 'cli-password-123', ...env },
        cwd: PROJECT_ROOT,
      }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    // The control file is the server's own, readable by its account only.
    expect(statSync(path.join(t.config.dataDir, 'control.json')).mode & 0o077).toBe(0);
    const added = await cli(['add', 'admin2', '--role', 'admin,handler', '--unit', 'pcs-renmin', '--name', '二号管理员']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('admin2 (admin, handler) added');
    expect(await getStaff(t.server.db, 'admin2')).toMatchObject({ roles: ['admin', 'handler'], unit: 'pcs-renmin', displayName: '二号管理员', disabled: false });
    // The new account logs in to the running server at once.
    await staffLogin(t.base, 'admin2', 'cli-password-123');

    expect((await cli(['disable', 'admin2'])).code).toBe(0);
    expect((await getStaff(t.server.db, 'admin2'))?.disabled).toBe(true);
    expect((await cli(['enable', 'admin2'])).code).toBe(0);
    expect((await getStaff(t.server.db, 'admin2'))?.disabled).toBe(false);

    // Refusals say why and change nothing.
    const short = await cli(['add', 'admin3', '--role', 'admin'], { XIAOAN_STAFF_PASSWORD: 'short' });
    expect(short.code).not.toBe(0);
    expect(short.stderr).toMatch(/10/);
    expect(await getStaff(t.server.db, 'admin3')).toBeNull();
    const unit = await cli(['add', 'admin3', '--role', 'admin', '--unit', 'nowhere']);
    expect(unit.code).toBe(2);
    expect(unit.stderr).toContain('unknown unit');
    expect((await cli(['disable', 'nobody'])).stderr).toContain('no staff member nobody');

    const { rows } = await t.server.db.query<{ actor: string; action: string; target: string }>("SELECT actor, action, target FROM audit_log WHERE target = 'admin2' ORDER BY id");
    expect(rows.map((r) => `${r.actor} ${r.action}`)).toEqual(expect.arrayContaining(['cli staff.create', 'cli staff.disable', 'cli staff.enable']));
  }, 120_000);

  it('the local control route takes commands from this machine with the token only', async () => {
    const refused = await fetch(`${t.base}/local/staff`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: '{"op":"enable","username":"root"}' });
    expect(refused.status).toBe(403);
    const none = await fetch(`${t.base}/local/staff`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"op":"enable","username":"root"}' });
    expect(none.status).toBe(403);
  });
});

describe.each(testStores)('account rules in the store on $name', (store) => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(() => cleanup());

  it('updates roles, unit and name; keeps an enabled admin; records last login', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const { db } = s;
    await addStaff(db, 'root', 'admin-password-1', ['admin'], 'cli', { unit: 'zwzx', displayName: '管理员' });
    expect(await getStaff(db, 'root')).toMatchObject({ roles: ['admin'], unit: 'zwzx', displayName: '管理员', lastLoginAt: null });
    await expect(addStaff(db, 'root', 'admin-password-2', ['agent'], 'cli', { onlyNew: true })).rejects.toMatchObject({ status: 409 });
    expect((await login(db, 'root', 'admin-password-1', 1)).ok).toBe(true);
    expect((await getStaff(db, 'root'))?.lastLoginAt).not.toBeNull();

    // The last enabled admin keeps the role and the account, whoever asks.
    const refused = (p: Promise<unknown>) => expect(p).rejects.toSatisfy((e) => e instanceof StaffError && e.status === 409);
    await refused(updateStaff(db, 'root', { roles: ['supervisor'] }, 'cli'));
    await refused(setStaffDisabled(db, 'root', true, 'someone', { keepAdmin: true }));
    await expect(updateStaff(db, 'nobody', { unit: null })).rejects.toMatchObject({ status: 404 });
    await expect(updateStaff(db, 'root', { roles: [] })).rejects.toMatchObject({ status: 400 });

    await addStaff(db, 'wu', 'admin-password-3', ['admin']);
    await addStaff(db, 'ma', 'admin-password-4', ['admin']);
    // Two admins at once, each disabling the other, and a third dropping the role of both:
    // the changes are serialised and an enabled admin is always left.
    const results = await Promise.allSettled([
      setStaffDisabled(db, 'wu', true, 'root', { keepAdmin: true }),
      setStaffDisabled(db, 'root', true, 'wu', { keepAdmin: true }),
      updateStaff(db, 'ma', { roles: ['agent'] }, 'root'),
      updateStaff(db, 'root', { roles: ['agent'] }, 'ma'),
    ]);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof StaffError)).toBe(true);
    const admins = (await listStaff(db)).filter((u) => u.roles.includes('admin') && !u.disabled);
    expect(admins.length).toBeGreaterThanOrEqual(1);

    // The CLI (the way back in) is not held by the rule.
    for (const u of admins) expect(await setStaffDisabled(db, u.username, true, 'cli')).toBe(true);
    expect((await listAudit(db, { actor: 'cli', action: 'staff.disable' })).length).toBe(admins.length);
  });
});
