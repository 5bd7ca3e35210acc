/**
 * CSRF over real HTTP: a change made with the staff session cookie must come from our own
 * origin and carry the session's token; systems with the bearer token are exempt.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { listAudit } from '../../../bot/store/audit.ts';
import { useTestServer } from '../../helpers/server.ts';

const TOKEN = 'staff-token-0123456789';

describe('staff CSRF protection', () => {
  const t = useTestServer({ STAFF_API_TOKEN: TOKEN }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler'], 'cli', { unit: 'sj' });
    await db.close();
  });

  const login = async (headers: Record<string, string> = { origin: t.base }) => {
    const res = await fetch(`${t.base}/staff/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ username: 'zhang', password: 'handler-password-1' }),
      redirect: 'manual',
    });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const csrf = cookie ? ((await (await fetch(`${t.base}/api/staff/me`, { headers: { cookie } })).json()) as { csrfToken: string }).csrfToken : '';
    return { res, cookie, csrf };
  };
  const newCase = async (key: string) =>
    (await t.server.engine.desk!.create(
      { type: '投诉', description: '小区门口的烧烤摊每天深夜油烟扰民，请依法处理', citizen: { id: `c-${key}`, mobile: '13812345678', consentToContact: true }, channel: 'web' },
      key,
    )).id;
  const statusOf = async (id: string) => (await t.server.engine.desk!.get(id))!.status;
  const accept = (id: string, headers: Record<string, string>) => fetch(`${t.base}/api/staff/cases/${id}/accept`, { method: 'POST', headers });

  it('refuses a cross-site and a same-site-but-other-origin page, even with a valid cookie and token', async () => {
    const s = await login();
    const id = await newCase('csrf-1');
    const port = new URL(t.base).port;
    const foreign: Array<Record<string, string>> = [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      // Same site (127.0.0.1), another port: a different origin, still refused.
      { origin: `http://127.0.0.1:${Number(port) + 1}`, 'sec-fetch-site': 'same-site' },
      // Older browsers send no Sec-Fetch-Site: the Origin itself must match.
      { origin: `http://localhost:${port}` },
      { origin: `https://127.0.0.1:${port}` },
      { origin: 'null' },
      // Neither header: not from a page of ours as far as we can tell.
      {},
    ];
    for (const h of foreign) {
      const res = await accept(id, { cookie: s.cookie, 'x-csrf-token': s.csrf, ...h });
      expect(res.status, JSON.stringify(h)).toBe(403);
      expect((await res.json()).error).toContain('cross-origin');
    }
    expect(await statusOf(id)).toBe('submitted');
    const refused = await listAudit(t.server.db, { actor: 'zhang', action: 'csrf' });
    expect(refused.filter((r) => r.target === `/api/staff/cases/${id}/accept` && r.outcome === 'denied')).toHaveLength(foreign.length);
  });

  it('refuses a change without the session CSRF token, or with another session’s', async () => {
    const s = await login();
    const other = await login();
    const id = await newCase('csrf-2');
    for (const token of [undefined, '', 'x'.repeat(32), other.csrf]) {
      const res = await accept(id, { cookie: s.cookie, origin: t.base, ...(token === undefined ? {} : { 'x-csrf-token': token }) });
      expect(res.status).toBe(403);
      expect((await res.json()).error).toContain('CSRF');
    }
    expect(await statusOf(id)).toBe('submitted');
    // The same request from our own page with the right token goes through.
    const ok = await accept(id, { cookie: s.cookie, origin: t.base, 'x-csrf-token': s.csrf });
    expect(ok.status).toBe(200);
    expect(await statusOf(id)).toBe('accepted');
  });

  it('accepts a browser’s Sec-Fetch-Site: same-origin without an Origin header', async () => {
    const s = await login();
    const id = await newCase('csrf-3');
    expect((await accept(id, { cookie: s.cookie, 'sec-fetch-site': 'same-origin', 'x-csrf-token': s.csrf })).status).toBe(200);
  });

  it('lets systems with the bearer token through without Origin or CSRF token', async () => {
    const id = await newCase('csrf-4');
    const res = await accept(id, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(await statusOf(id)).toBe('accepted');
    // A wrong bearer falls back to the cookie rules: no cookie, no access.
    expect((await accept(id, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
  });

  it('checks the Origin of the login form, so no other site can sign a browser in', async () => {
    const cross = await login({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(cross.res.status).toBe(403);
    expect(cross.cookie).toBe('');
    const none = await login({});
    expect(none.res.status).toBe(403);
    const ours = await login({ 'sec-fetch-site': 'same-origin' });
    expect(ours.res.status).toBe(303);
    expect(ours.cookie).toMatch(/^xiaoan_staff=/);
  });

  it('keeps reads simple: a GET with the cookie needs no token', async () => {
    const s = await login();
    const res = await fetch(`${t.base}/api/staff/cases`, { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
