/**
 * The attacks of the citizen-identity issue, tried over real HTTP against our own server:
 * naming a victim's userId, reading their events, rating or silencing their chat, repeat
 * linking leaking another citizen's case, and bad input that used to give 500.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../../helpers/server.ts';

const STAFF_TOKEN = 'staff-token-0123456789';
const CHAT_TOKEN = 'chat-token-0123456789';

type Replies = { replies: Array<{ type: string; text?: string; head?: string; items?: Array<{ label: string; id?: string }> }> };
const textOf = (r: Replies) => r.replies.map((x) => x.text ?? x.head ?? '').join('\n');

/** A browser: keeps the session cookie the server sets, like a real one. */
class Browser {
  cookie = '';
  constructor(private readonly base: string) {}
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${this.base}${path}`, { ...init, headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(init.headers as Record<string, string>) } });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('xiaoan_sid='));
    if (set) this.cookie = set.split(';')[0]!;
    return res;
  }
  post(body: unknown, headers: Record<string, string> = {}) {
    return this.request('/api/chat', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  }
  async say(text: string): Promise<Replies> {
    const res = await this.post({ text });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  }
  async menu(menuId: string): Promise<Replies> {
    return (await this.post({ menuId })).json();
  }
  /** Opens the event stream; `next()` resolves with the next pushed message, `received` holds them all. */
  stream(): { next: () => Promise<string>; received: string[]; close: () => void; status: Promise<number> } {
    const received: string[] = [];
    const waiting: Array<(s: string) => void> = [];
    let setStatus: (n: number) => void = () => {};
    const status = new Promise<number>((r) => (setStatus = r));
    const req = http.get(`${this.base}/api/chat/events`, { headers: this.cookie ? { cookie: this.cookie } : {} }, (res) => {
      setStatus(res.statusCode!);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let m = /event: message\ndata: (.*)\n\n/.exec(buf); m; m = /event: message\ndata: (.*)\n\n/.exec(buf)) {
          buf = buf.slice(m.index + m[0].length);
          received.push(m[1]!);
          waiting.shift()?.(m[1]!);
        }
      });
    });
    req.on('error', () => {});
    return {
      received,
      status,
      close: () => req.destroy(),
      next: () => new Promise<string>((resolve) => (received.length > waiting.length ? resolve(received[waiting.length]!) : waiting.push(resolve))),
    };
  }
}

const staffCall = async (base: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}/api/staff/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${STAFF_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

/** Files a complaint through the whole case dialog; returns the confirmation text. */
async function complain(b: Browser, description: string, mobile: string, name?: string): Promise<string> {
  await b.say(description);
  await b.say('北苑路 12 号');
  await b.say(mobile);
  if (name) await b.say(name);
  else await b.menu('case:skip');
  await b.menu('case:consent:yes');
  return textOf(await b.menu('case:submit'));
}

describe('a web citizen is who the session says', () => {
  const t = useTestServer({ STAFF_API_TOKEN: STAFF_TOKEN, CHAT_API_TOKEN: CHAT_TOKEN, HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时', CHAT_RATE_PER_MINUTE: '1000' });

  it('issues an HttpOnly SameSite session cookie on the first response, and keeps the citizen by it', async () => {
    const b = new Browser(t.base);
    const res = await b.post({ text: '你好' });
    expect(res.status).toBe(200);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('xiaoan_sid='))!;
    expect(set).toMatch(/^xiaoan_sid=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(set).not.toContain('Secure');
    const { rows } = await t.server.db.query<{ token_hash: string }>('SELECT token_hash FROM citizen_sessions');
    // Stored hashed: the token itself is nowhere in the database.
    expect(rows.map((r) => r.token_hash)).not.toContain(b.cookie.split('=')[1]);
    const again = await b.post({ text: '身份证丢了怎么办' });
    expect(again.headers.getSetCookie()).toEqual([]);
    // A guessed or forged token is a new, empty citizen, not anyone else.
    const forged = new Browser(t.base);
    forged.cookie = `xiaoan_sid=${'A'.repeat(43)}`;
    expect((await (await forged.request('/api/chat/history')).json()).messages).toEqual([]);
    expect(forged.cookie).not.toBe(`xiaoan_sid=${'A'.repeat(43)}`);
  });

  it('refuses a userId named by the client, in the body or the query', async () => {
    const victim = new Browser(t.base);
    await victim.say('身份证丢了怎么办');
    const { rows } = await t.server.db.query<{ user_id: string }>('SELECT user_id FROM citizen_sessions ORDER BY created_at DESC LIMIT 1');
    const victimId = rows[0]!.user_id;
    const attacker = new Browser(t.base);
    const posted = await attacker.post({ userId: victimId, text: '我的诉求怎么样了' });
    expect(posted.status).toBe(400);
    expect((await posted.json()).error).toContain('userId');
    const events = await attacker.request(`/api/chat/events?userId=${victimId}`);
    expect(events.status).toBe(400);
    const history = await attacker.request(`/api/chat/history?userId=${victimId}`);
    expect(history.status).toBe(400);
    // A wrong integration token is refused outright.
    expect((await attacker.post({ userId: victimId, text: '你好' }, { authorization: 'Bearer not-the-token-000000' })).status).toBe(401);
  });

  it("keeps integration citizens (channel api) apart from web citizens with the same id", async () => {
    const web = new Browser(t.base);
    await web.say('护照过期了怎么换');
    const { rows } = await t.server.db.query<{ user_id: string }>('SELECT user_id FROM citizen_sessions ORDER BY created_at DESC LIMIT 1');
    const api = await fetch(`${t.base}/api/chat/history?userId=${rows[0]!.user_id}`, { headers: { authorization: `Bearer ${CHAT_TOKEN}` } });
    expect((await api.json()).messages).toEqual([]);
    expect((await (await web.request('/api/chat/history')).json()).messages.map((m: { text: string }) => m.text)).toContain('护照过期了怎么换');
  });

  it("never lets one citizen see, rate or silence another's case", async () => {
    const victim = new Browser(t.base);
    const attacker = new Browser(t.base);
    await attacker.say('你好');
    // Mid-dialog the victim's details stay theirs: the attacker's own chat shows nothing of them.
    // Cooking fumes (油烟) are a complaint, not a fire.
    await victim.say('我要投诉小区门口烧烤摊每天占道经营到凌晨，油烟很大');
    await victim.say('南湖路 8 号');
    await victim.say('13812345678');
    expect(textOf(await attacker.say('确认提交'))).not.toContain('13812345678');
    await victim.say('王小明');
    await victim.menu('case:consent:yes');
    const submitted = textOf(await victim.menu('case:submit'));
    const id = /编号 (XA\d+)/.exec(submitted)?.[1] ?? submitted;

    expect(textOf(await attacker.say('我的诉求怎么样了'))).not.toContain(id);
    expect(textOf(await victim.say('我的诉求怎么样了'))).toContain(id);

    // The result and the rating menu reach the victim's stream only.
    const victimStream = victim.stream();
    const attackerStream = attacker.stream();
    expect(await victimStream.status).toBe(200);
    expect(await attackerStream.status).toBe(200);
    for (const action of ['accept', 'reply', 'close']) {
      expect((await staffCall(t.base, `cases/${id}/${action}`, action === 'reply' ? { note: '已责令摊主整改，夜间不再经营。' } : {})).status).toBe(200);
    }
    expect(await victimStream.next()).toContain(id);
    // The attacker's rating goes nowhere: they have no survey; the case stays at level 1.
    expect(textOf(await attacker.menu('rate:非常不满意'))).not.toContain('重新办理');
    expect((await staffCall(t.base, `cases/${id}`)).body).toMatchObject({ level: 1, status: 'closed' });
    expect(attackerStream.received.join('')).not.toContain(id);
    victimStream.close();
    attackerStream.close();

    // 转人工 from the attacker silences only the attacker's chat.
    await attacker.say('转人工');
    expect(textOf(await victim.say('身份证丢了补办要多少钱'))).toContain('居民身份证');
  });

  it('keeps every citizen\'s repeat their own: own number, own result, own survey, nothing of the other', async () => {
    const a = new Browser(t.base);
    const b = new Browser(t.base);
    const first = await complain(a, '我要投诉北苑路12号楼下KTV每天半夜噪音扰民，严重影响休息', '13811112222', '张三');
    const aId = /编号 (XA\d+)/.exec(first)![1]!;
    const second = await complain(b, '投诉北苑路12号的KTV天天半夜噪音扰民，吵得孩子睡不着觉', '13933334444', '李四');
    const bId = /编号 (XA\d+)/.exec(second)?.[1];
    expect(bId, second).toBeDefined();
    expect(bId).not.toBe(aId);
    expect(second).not.toContain(aId);
    expect(second).toContain('一并办理');

    const aStatus = textOf(await a.say('我的诉求怎么样了'));
    for (const leak of [bId!, '李四', '13933334444', '孩子睡不着']) expect(aStatus).not.toContain(leak);
    const bStatus = textOf(await b.say('我的诉求怎么样了'));
    expect(bStatus).toContain(bId);
    for (const leak of [aId, '张三', '13811112222']) expect(bStatus).not.toContain(leak);

    // The desk sees the link and handles them together; each citizen hears their own result.
    expect((await staffCall(t.base, `cases/${bId}`)).body.repeatOf).toBe(aId);
    for (const action of ['accept', 'reply', 'close']) {
      expect((await staffCall(t.base, `cases/${aId}/${action}`, action === 'reply' ? { note: '已约谈KTV经营者，22点后停止营业。' } : {})).status).toBe(200);
    }
    const toA = textOf(await a.say('你好'));
    const toB = textOf(await b.say('你好'));
    expect(toA).toContain(aId);
    expect(toB).toContain(bId);
    expect(toB).toContain('22点后停止营业');
    expect(toB).not.toContain(aId);
    expect(textOf(await b.menu('rate:满意'))).toContain('感谢您的评价');
    const rated = (await staffCall(t.base, `cases/${bId}`)).body;
    expect(rated.steps.filter((s: { action: string }) => s.action === '评价').map((s: { note: string }) => s.note)).toEqual(['满意']);
    expect((await staffCall(t.base, `cases/${aId}`)).body.steps.filter((s: { action: string }) => s.action === '评价')).toEqual([]);
  });

  it('answers bad input with 4xx, never 500', async () => {
    const b = new Browser(t.base);
    await b.say('你好');
    const raw = (body: BodyInit, headers: Record<string, string> = {}) =>
      b.request('/api/chat', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const cases: Array<[Response, number]> = [
      [await b.post({ text: 'a\u0000b' }), 400],
      [await b.post({ menuId: 'rate:\u0000' }), 400],
      [await b.post({ text: 'x\ud800y' }), 400],
      [await b.post({ text: { nested: true } }), 400],
      [await b.post({ text: ['a'] }), 400],
      [await b.post({ menuId: 42 }), 400],
      [await raw(new Blob([gzipSync('{"text":"你好"}').subarray(0, 10)]), { 'content-encoding': 'gzip' }), 400],
      [await raw('{"text":"你好"}', { 'content-encoding': 'gzip' }), 400],
      [await raw('{"text":"你好"}', { 'content-encoding': 'br-unknown' }), 415],
      [await raw('{"text":"hi"}', { 'content-type': 'application/json; charset=latin9' }), 415],
      [await b.request('/api/chat/%E0%A4%A'), 400],
      [await fetch(`${t.base}/api/chat/history`, { headers: { cookie: 'xiaoan_sid=%E0%A4%A; other=%%' } }), 200],
    ];
    for (const [res, want] of cases) {
      expect(res.status, `${res.url} ${await res.clone().text()}`).toBe(want);
      if (want >= 400) expect((await res.json()).error).toBeTruthy();
    }
    // With the integration token, a NUL in the userId is refused too.
    const api = await fetch(`${t.base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_TOKEN}` },
      body: JSON.stringify({ userId: 'u\u0000', text: '你好' }),
    });
    expect(api.status).toBe(400);
    expect((await b.post({ text: '身份证丢了怎么办' })).status).toBe(200);
  });

  it('sends security headers on pages and APIs', async () => {
    for (const path of ['/', '/api/chat/history', '/staff/login']) {
      const res = await fetch(`${t.base}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('same-origin');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('caps the open event streams of one citizen', async () => {
    const b = new Browser(t.base);
    await b.say('你好');
    const streams = [b.stream(), b.stream(), b.stream()];
    expect(await Promise.all(streams.map((s) => s.status))).toEqual([200, 200, 200]);
    const fourth = b.stream();
    expect(await fourth.status).toBe(429);
    streams.forEach((s) => s.close());
    fourth.close();
  });
});

describe('rate limits', () => {
  const t = useTestServer({ CHAT_RATE_PER_MINUTE: '5', CHAT_RATE_PER_ADDRESS: '12' });

  it('slows one citizen down with a short Chinese 429, then one address', async () => {
    const b = new Browser(t.base);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await b.post({ text: '你好' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await b.post({ text: '你好' });
    expect(limited.status).toBe(429);
    expect((await limited.json()).error).toContain('稍等');
    // Another citizen from the same address still gets through, until the address limit.
    const other = new Browser(t.base);
    expect((await other.post({ text: '你好' })).status).toBe(200);
    const more: number[] = [];
    for (let i = 0; i < 6; i++) more.push((await new Browser(t.base).post({ text: '你好' })).status);
    expect(more).toContain(429);
  });
});

describe('behind a trusted proxy', () => {
  const t = useTestServer({ TRUST_PROXY: '1' });

  it('marks the session cookie Secure when the proxy says HTTPS, and only then', async () => {
    const https = await fetch(`${t.base}/api/chat/history`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers.getSetCookie()[0]).toContain('; Secure');
    const plain = await fetch(`${t.base}/api/chat/history`);
    expect(plain.headers.getSetCookie()[0]).not.toContain('Secure');
  });
});

describe('without a trusted proxy', () => {
  const t = useTestServer({});

  it('ignores X-Forwarded-Proto', async () => {
    const res = await fetch(`${t.base}/api/chat/history`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers.getSetCookie()[0]).not.toContain('Secure');
  });
});
