/**
 * Login throttling per account and per client address, kept in the database: a growing delay
 * after 5 failures, a 15-minute lock after 10. Over HTTP the clock is moved by shifting the
 * stored times back; the store's own test injects the clock.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../../bot/store/database.ts';
import { listAudit } from '../../../bot/store/audit.ts';
import { addStaff, login, THROTTLE } from '../../../bot/store/staff.ts';
import { useTempPglite } from '../../helpers/databases.ts';
import { useTestServer } from '../../helpers/server.ts';

/** Seconds to wait after the 1st, 2nd, … 10th failure of one account. */
const SCHEDULE = [0, 0, 0, 0, 2, 4, 8, 16, 32, 15 * 60];

/** Moves the throttle's clock forward by moving every stored time back. */
const advance = (db: Database, seconds: number) =>
  db.query(`UPDATE login_throttle SET last_failure_at = last_failure_at - make_interval(secs => $1), blocked_until = blocked_until - make_interval(secs => $1)`, [seconds]);

describe('login throttling over HTTP', () => {
  // Behind a trusted proxy, so each test can speak from its own client address.
  const t = useTestServer({ TRUST_PROXY: 'loopback' }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler']);
    await db.close();
  });

  const attempt = async (password: string, from: string, username = 'zhang') => {
    const res = await fetch(`${t.base}/staff/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.base, 'x-forwarded-for': from },
      body: new URLSearchParams({ username, password }),
      redirect: 'manual',
    });
    const location = res.headers.get('location') ?? '';
    const q = new URL(location, t.base).searchParams;
    return { location, error: q.get('error'), wait: Number(q.get('wait') ?? 0), cookie: res.headers.get('set-cookie') };
  };

  it('slows down and then locks an account under 200 wrong passwords, even sent all at once', async () => {
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => attempt(`wrong-password-${i}`, '10.0.0.1')));
    // Each attempt is counted before its password is checked, so only 5 are checked at once;
    // one more only if a short delay ran out while the burst was still arriving (a slow machine).
    const checked = burst.filter((r) => r.error === '1');
    expect(checked.length).toBeGreaterThanOrEqual(5);
    expect(checked.length).toBeLessThanOrEqual(7);
    expect(checked.map((r) => r.wait).sort((a, b) => a - b)).toEqual(SCHEDULE.slice(0, checked.length));
    expect(burst.filter((r) => r.error === 'wait')).toHaveLength(200 - checked.length);

    // Each further failure doubles the wait, and the 10th locks the account for 15 minutes.
    for (let n = checked.length + 1; n <= 10; n++) {
      await advance(t.server.db, 60);
      const r = await attempt(`wrong-again-${n}`, '10.0.0.1');
      expect(r).toMatchObject({ error: '1', wait: SCHEDULE[n - 1] });
    }

    // During the lock the right password is refused, from any address, without a session.
    await advance(t.server.db, 60);
    for (const from of ['10.0.0.1', '10.0.0.2']) {
      const locked = await attempt('handler-password-1', from);
      expect(locked.error).toBe('wait');
      expect(locked.wait).toBeGreaterThan(13 * 60);
      expect(locked.cookie).toBeNull();
    }

    await advance(t.server.db, 15 * 60);
    const ok = await attempt('handler-password-1', '10.0.0.1');
    expect(ok.location).toBe('/staff/');
    // The success cleared the account's count: a new mistake (from a fresh address) costs no wait.
    expect(await attempt('a-typo-password', '10.0.0.3')).toMatchObject({ error: '1', wait: 0 });

    const audit = await listAudit(t.server.db, { actor: 'zhang', limit: 1000 });
    const login = audit.filter((r) => r.action === 'login');
    expect(login.filter((r) => r.outcome === 'failed')).toHaveLength(11);
    expect(login.filter((r) => r.outcome === 'denied')).toHaveLength(200 - checked.length + 2);
    expect(login.filter((r) => r.outcome === 'ok')).toHaveLength(1);
    expect(audit.filter((r) => r.action === 'login.lock').map((r) => r.target)).toEqual(['user:zhang']);
    expect(login.every((r) => r.address?.startsWith('10.0.0.'))).toBe(true);
  });

  it('locks a client address that tries many accounts, without locking those accounts', async () => {
    const from = '10.0.9.9';
    const waits: number[] = [];
    for (let i = 1; i <= THROTTLE.address.lockAfter; i++) {
      await advance(t.server.db, 60);
      const r = await attempt('guess-password-1', from, `nobody${i}`);
      expect(r.error).toBe('1');
      waits.push(r.wait);
    }
    expect(waits.slice(0, 9).every((w) => w === 0)).toBe(true);
    expect(waits.slice(9)).toEqual([2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 900]);

    await advance(t.server.db, 60);
    const failures = async () => (await t.server.db.query<{ failures: number }>("SELECT failures FROM login_throttle WHERE key = 'user:zhang'")).rows[0]?.failures ?? 0;
    const before = await failures();
    expect((await attempt('handler-password-1', from)).error).toBe('wait');
    // Refused at the address, the attempt was not held against zhang's account.
    expect(await failures()).toBe(before);
    expect((await attempt('handler-password-1', '10.0.9.10')).location).toBe('/staff/');
    const locks = await listAudit(t.server.db, { action: 'login.lock' });
    expect(locks.map((r) => r.target)).toContain(`ip:${from}`);
  });

  it('audits the client address named by the trusted proxy', async () => {
    await attempt('wrong-password-x', '10.7.7.7', 'someone');
    const [row] = await listAudit(t.server.db, { actor: 'someone', action: 'login' });
    expect(row).toMatchObject({ address: '10.7.7.7', outcome: 'failed', details: { reason: 'unknown user' } });
    // A "name" no account could have may be a password typed in the wrong box: never logged.
    await attempt('x', '10.7.7.8', 'Secret password 2025!');
    const [hidden] = await listAudit(t.server.db, { action: 'login', limit: 1 });
    expect(hidden).toMatchObject({ actor: '(invalid username)', address: '10.7.7.8' });
    expect(JSON.stringify(await listAudit(t.server.db, { limit: 1000 }))).not.toContain('Secret password');
  });
});

describe('login throttling with an injected clock', () => {
  const t = useTempPglite();
  const at = (s: number) => new Date(Date.UTC(2025, 4, 1, 8) + s * 1000);

  it('grows the delay, locks for 15 minutes, lifts the lock on time and forgets after a day', async () => {
    await addStaff(t.db, 'li', 'supervisor-password-1', ['supervisor']);
    const tryAt = (s: number, password = 'wrong-password-x') => login(t.db, 'li', password, 8, { address: '192.0.2.1', now: at(s) });
    let clock = 0;
    const waits: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const r = await tryAt(clock);
      expect(r).toMatchObject({ ok: false, reason: 'invalid' });
      const wait = (r as { waitSeconds: number }).waitSeconds;
      waits.push(wait);
      // While it waits, even the right password is refused: the account is throttled, not the guess.
      if (wait) expect(await tryAt(clock + wait - 1, 'supervisor-password-1')).toMatchObject({ ok: false, reason: 'throttled', waitSeconds: 1 });
      clock += wait;
    }
    expect(waits).toEqual(SCHEDULE);
    // The lock ends exactly 15 minutes after the 10th failure.
    expect(await tryAt(clock - 1, 'supervisor-password-1')).toMatchObject({ ok: false, reason: 'throttled' });
    const ok = await tryAt(clock, 'supervisor-password-1');
    expect(ok).toMatchObject({ ok: true, session: { username: 'li', roles: ['supervisor'] } });

    // After a day without failures an address starts from zero again.
    const other = (s: number) => login(t.db, `ghost${s}`, 'wrong-password-x', 8, { address: '192.0.2.50', now: at(s) });
    for (let i = 0; i < 9; i++) await other(clock + i);
    expect(await other(clock + 9)).toMatchObject({ waitSeconds: 2 });
    expect(await other(clock + 9 + 25 * 3600)).toMatchObject({ reason: 'invalid', waitSeconds: 0 });
  });
});
