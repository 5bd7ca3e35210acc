/** A staff member logged in over HTTP as the login page does: session cookie and CSRF token. */
import http from 'node:http';

export interface StaffClient {
  cookie: string;
  csrf: string;
  get: (path: string) => Promise<{ status: number; body: any }>;
  post: (path: string, body?: unknown) => Promise<{ status: number; body: any }>;
}

export async function staffLogin(base: string, username: string, password: string): Promise<StaffClient> {
  const res = await fetch(`${base}/staff/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ username, password }),
    redirect: 'manual',
  });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  if (!cookie) throw new Error(`login of ${username} failed (${res.status} ${res.headers.get('location')})`);
  const me = (await (await fetch(`${base}/api/staff/me`, { headers: { cookie } })).json()) as { csrfToken: string };
  const call = async (path: string, init: RequestInit) => {
    const r = await fetch(`${base}${path}`, init);
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  return {
    cookie,
    csrf: me.csrfToken,
    // A new connection each call: a server busy building an index (a knowledge release) may
    // close an idle kept-alive socket just as the next request goes out on it.
    get: (path) => call(path, { headers: { cookie, connection: 'close' } }),
    post: (path, body = {}) =>
      call(path, { method: 'POST', headers: { cookie, origin: base, 'x-csrf-token': me.csrfToken, 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify(body) }),
  };
}

/** Reads a server-sent event stream; `next(match)` resolves with the next event data matching. */
export function eventStream(url: string, headers: Record<string, string>) {
  const events: Array<{ event: string; data: any }> = [];
  const waiters: Array<{ match: (e: { event: string; data: any }) => boolean; resolve: (e: { event: string; data: any }) => void }> = [];
  let ready: () => void = () => {};
  const opened = new Promise<void>((r) => (ready = r));
  const req = http.get(url, { headers }, (res) => {
    ready();
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      for (let m = /event: (\S+)\ndata: (.*)\n\n/.exec(buf); m; m = /event: (\S+)\ndata: (.*)\n\n/.exec(buf)) {
        buf = buf.slice(m.index + m[0].length);
        const e = { event: m[1]!, data: JSON.parse(m[2]!) };
        events.push(e);
        const i = waiters.findIndex((w) => w.match(e));
        if (i >= 0) waiters.splice(i, 1)[0]!.resolve(e);
      }
    });
  });
  req.on('error', () => {});
  let seen = 0;
  return {
    events,
    opened,
    close: () => req.destroy(),
    /** The first event after the ones already taken that matches. */
    next: (match: (e: { event: string; data: any }) => boolean = () => true) =>
      new Promise<{ event: string; data: any }>((resolve) => {
        const found = events.slice(seen).findIndex(match);
        if (found >= 0) {
          seen += found + 1;
          return resolve(events[seen - 1]!);
        }
        waiters.push({ match, resolve: (e) => ((seen = events.indexOf(e) + 1), resolve(e)) });
      }),
  };
}
