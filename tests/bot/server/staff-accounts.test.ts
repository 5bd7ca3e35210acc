/**
 * Staff accounts over real HTTP: a password change or a disabled account ends the sessions
 * at once, the cookie is Secure over HTTPS (through a trusted proxy only), and the CLI's
 * staff add / disable / enable are audited as "cli".
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { listAudit } from '../../../bot/store/audit.ts';
import { addStaff, setStaffDisabled } from '../../../bot/store/staff.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';
import { useTestServer, type TestServer } from '../../helpers/server.ts';

const loginAs = async (t: TestServer, username: string, password: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${t.base}/staff/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.base, ...headers },
    body: new URLSearchParams({ username, password }),
    redirect: 'manual',
  });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { location: res.headers.get('location'), setCookie, cookie: setCookie.split(';')[0]! };
};
const me = (t: TestServer, cookie: string) => fetch(`${t.base}/api/staff/me`, { headers: { cookie } });

describe('sessions end when the password changes or the account is disabled', () => {
  const t = useTestServer({}, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler']);
    await addStaff(db, 'wang', 'handler-password-9', ['handler']);
    await addStaff(db, 'li', 'supervisor-password-1', ['supervisor']);
    await db.close();
  });

  it('ends every session of an account whose password is reset', async () => {
    const a = await loginAs(t, 'zhang', 'handler-password-1');
    const b = await loginAs(t, 'zhang', 'handler-password-1');
    const other = await loginAs(t, 'li', 'supervisor-password-1');
    for (const s of [a, b, other]) expect((await me(t, s.cookie)).status).toBe(200);

    await addStaff(t.server.db, 'zhang', 'handler-password-2', ['handler'], 'admin');
    for (const s of [a, b]) {
      expect((await me(t, s.cookie)).status).toBe(401);
      const page = await fetch(`${t.base}/staff/`, { headers: { cookie: s.cookie }, redirect: 'manual' });
      expect(page.headers.get('location')).toBe('/staff/login');
    }
    // Other accounts keep their sessions.
    expect((await me(t, other.cookie)).status).toBe(200);
    expect((await loginAs(t, 'zhang', 'handler-password-1')).location).toBe('/staff/login?error=1');
    expect((await loginAs(t, 'zhang', 'handler-password-2')).location).toBe('/staff/');

    const [row] = await listAudit(t.server.db, { action: 'staff.update' });
    expect(row).toMatchObject({ actor: 'admin', target: 'zhang', details: { passwordChanged: true, sessionsEnded: 2 } });
  });

  it('ends the sessions of a disabled account and lets it log in only once enabled again', async () => {
    const s = await loginAs(t, 'wang', 'handler-password-9');
    expect((await me(t, s.cookie)).status).toBe(200);
    expect(await setStaffDisabled(t.server.db, 'wang', true, 'admin')).toBe(true);
    expect((await me(t, s.cookie)).status).toBe(401);
    // The right password, but the account is disabled: the same answer as a wrong one.
    const refused = await loginAs(t, 'wang', 'handler-password-9');
    expect(refused.location).toBe('/staff/login?error=1');
    expect(refused.cookie).toBe('');
    // Re-adding a disabled account (a new password) does not enable it.
    expect(await addStaff(t.server.db, 'wang', 'handler-password-8', ['handler'], 'admin')).toEqual({ created: false, disabled: true });
    expect((await loginAs(t, 'wang', 'handler-password-8')).cookie).toBe('');

    expect(await setStaffDisabled(t.server.db, 'wang', false, 'admin')).toBe(true);
    const back = await loginAs(t, 'wang', 'handler-password-8');
    expect(back.location).toBe('/staff/');
    expect((await me(t, back.cookie)).status).toBe(200);
    expect(await setStaffDisabled(t.server.db, 'nobody', true)).toBe(false);

    const audit = await listAudit(t.server.db, { actor: 'wang', action: 'login' });
    expect(audit.find((r) => r.outcome === 'failed')?.details).toMatchObject({ reason: 'disabled' });
    expect((await listAudit(t.server.db, { actor: 'admin' })).map((r) => r.action)).toEqual(expect.arrayContaining(['staff.disable', 'staff.enable']));
  });
});

describe('the session cookie over HTTPS', () => {
  const seed = async (config: { dataDir: string }) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler']);
    await db.close();
  };
  const proxied = useTestServer({ TRUST_PROXY: 'loopback' }, seed);
  const direct = useTestServer({}, seed);

  it('is Secure when a trusted proxy says the browser used HTTPS', async () => {
    const https = `https://${new URL(proxied.base).host}`;
    const viaHttps = await loginAs(proxied, 'zhang', 'handler-password-1', { 'x-forwarded-proto': 'https', origin: https });
    expect(viaHttps.location).toBe('/staff/');
    expect(viaHttps.setCookie).toMatch(/; HttpOnly; SameSite=Strict; .*Secure/);
    const viaHttp = await loginAs(proxied, 'zhang', 'handler-password-1');
    expect(viaHttp.location).toBe('/staff/');
    expect(viaHttp.setCookie).not.toMatch(/Secure/);
  });

  it('ignores X-Forwarded-Proto without TRUST_PROXY', async () => {
    const r = await loginAs(direct, 'zhang', 'handler-password-1', { 'x-forwarded-proto': 'https' });
    expect(r.location).toBe('/staff/');
    expect(r.setCookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect(r.setCookie).not.toMatch(/Secure/);
  });
});

describe('xiaoan staff add / disable / enable', () => {
  const run = promisify(execFile);
  const BIN = path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js');

  it('changes accounts from the command line, each change audited as "cli"', async () => {
    const dataDir = tempDir();
    const xiaoan = (...args: string[]) =>
      run(process.execPath, [BIN, 'staff', ...args], { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', XIAOAN_STAFF_PASSWORD: 'cli-password-123' }, cwd: PROJECT_ROOT });
    try {
      expect((await xiaoan('add', 'zhao', '--role', 'handler')).stdout).toContain('added');
      expect((await xiaoan('add', 'zhao', '--role', 'supervisor')).stdout).toContain('sessions have ended');
      expect((await xiaoan('disable', 'zhao')).stdout).toContain('disabled');
      expect((await xiaoan('enable', 'zhao')).stdout).toContain('enabled');

      const db = await openDatabase({ dataDir });
      try {
        const { rows } = await db.query<{ roles: string[]; disabled: boolean }>("SELECT roles, disabled FROM staff_users WHERE username = 'zhao'");
        expect(rows[0]).toEqual({ roles: ['supervisor'], disabled: false });
        const audit = await listAudit(db, { actor: 'cli' });
        expect(audit.map((r) => `${r.action} ${r.target}`)).toEqual(['staff.enable zhao', 'staff.disable zhao', 'staff.update zhao', 'staff.create zhao']);
      } finally {
        await db.close();
      }
    } finally {
      removeDir(dataDir);
    }
  }, 120_000); // four runs of the CLI, each opening the store
});
