/**
 * Nothing hangs and nothing is a 500 when the database is away: requests get 503 with
 * Retry-After and a polite message, /readyz answers in time, and service resumes by
 * itself. Against the real PostgreSQL (TEST_DATABASE_URL) through a link that can refuse,
 * reset or stall; and on PGlite with a database that fails or never answers.
 */
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../../../bot/server/start.ts';
import type { Database } from '../../../bot/store/database.ts';
import { removeDir, testConfig } from '../../helpers/kb.ts';
import { useTestServer } from '../../helpers/server.ts';

const MAINTENANCE = '系统正在维护，请稍后再试。';
const CHAT_TOKEN = 'chat-token-0123456789';
const env = { CHAT_API_TOKEN: CHAT_TOKEN, CHAT_RATE_PER_MINUTE: '1000' };

const ask = (base: string) =>
  fetch(`${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '身份证丢了怎么补办' }) });
const chat = (base: string, userId: string) =>
  fetch(`${base}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_TOKEN}` },
    body: JSON.stringify({ userId, text: '身份证丢了怎么补办' }),
  });
const ready = (base: string) => fetch(`${base}/readyz`);

/** A 503 that tells the citizen to come back shortly, and when. */
async function expectMaintenance(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await res.json()).toEqual({ error: MAINTENANCE });
}

async function expectNotReady(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(await res.json()).toEqual({ ready: false, reason: 'database unavailable' });
}

async function expectServed(base: string, userId: string): Promise<void> {
  const a = await ask(base);
  expect(a.status).toBe(200);
  expect((await a.json()).item.id).toBe('sfz-04');
  const c = await chat(base, userId);
  expect(c.status).toBe(200);
  expect((await c.json()).item.id).toBe('sfz-04');
  const r = await ready(base);
  expect(r.status).toBe(200);
  expect((await r.json()).ready).toBe(true);
}

/**
 * A TCP link to PostgreSQL that can fail on demand: refuse (the port is closed, open
 * connections are cut), reset (connections are accepted and reset at once) or stall
 * (connections are accepted, nothing is forwarded until heal()).
 */
class FaultyLink {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket; held: Array<[net.Socket, Buffer]> }>();
  private mode: 'pass' | 'refuse' | 'reset' | 'stall' = 'pass';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    if (this.mode === 'reset') return void client.resetAndDestroy();
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream, held: [] as Array<[net.Socket, Buffer]> };
    this.pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => (this.mode === 'stall' ? pair.held.push([to, chunk]) : to.write(chunk)));
    forward(client, upstream);
    forward(upstream, client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    for (const s of [client, upstream]) s.on('close', drop).on('error', drop);
  }

  private cutAll(): void {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
  }

  async refuse(): Promise<void> {
    this.mode = 'refuse';
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.cutAll();
    await closed;
  }

  reset(): void {
    this.mode = 'reset';
    this.cutAll();
  }

  stall(): void {
    this.mode = 'stall';
  }

  async heal(): Promise<void> {
    const was = this.mode;
    this.mode = 'pass';
    if (was === 'refuse') await this.listen(this.port);
    for (const p of this.pairs) for (const [to, chunk] of p.held.splice(0)) to.write(chunk);
  }

  async close(): Promise<void> {
    this.cutAll();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)('database faults on PostgreSQL, through a faulty link', () => {
  // Short limits so the test is quick; the defaults are 5 s and 3 s. The statement limit is
  // above /readyz's 1.5 s so that, while stalled, /readyz is answered by its own bound.
  const limits = { DATABASE_STATEMENT_TIMEOUT_MS: '3000', DATABASE_CONNECT_TIMEOUT_MS: '2000' };
  const schema = `xiaoan_test_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  let link: FaultyLink;
  let server: RunningServer;
  let base = '';
  let dataDir = '';

  beforeAll(async () => {
    // Failed requests are logged; keep the test output readable.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const real = new URL(url!);
    link = new FaultyLink({ host: real.hostname, port: Number(real.port || 5432) });
    await link.listen();
    const through = new URL(url!);
    through.hostname = '127.0.0.1';
    through.port = String(link.port);
    through.searchParams.set('options', `-c search_path=${schema}`);
    const config = testConfig({ ...env, ...limits, DATABASE_URL: through.toString() });
    dataDir = config.dataDir;
    server = await startServer({ ...config, port: 0 }, { handleSignals: false, quiet: true });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await link?.heal();
    await server?.close();
    await link?.close();
    removeDir(dataDir);
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
    vi.restoreAllMocks();
  });

  // A failed test must not leave the next one with a broken link.
  afterEach(async () => link.heal());

  it('serves over the link while the database answers', async () => {
    expect(server.db.kind).toBe('postgres');
    await expectServed(base, 'pg-fault-0');
  });

  it('answers 503 with Retry-After while the database refuses connections, and serves again after', async () => {
    await link.refuse();
    await expectMaintenance(await ask(base));
    await expectMaintenance(await chat(base, 'pg-fault-1'));
    await expectNotReady(await ready(base));
    // Still refused: every request is answered, none is a 500.
    await expectMaintenance(await ask(base));
    await link.heal();
    await expectServed(base, 'pg-fault-1');
  });

  it('answers 503 with Retry-After while connections are reset, and serves again after', async () => {
    link.reset();
    await expectMaintenance(await ask(base));
    await expectMaintenance(await chat(base, 'pg-fault-2'));
    await expectNotReady(await ready(base));
    await link.heal();
    await expectServed(base, 'pg-fault-2');
  });

  it('answers 503 within the timeouts while the database stalls, /readyz too, and serves again after', async () => {
    link.stall();
    let stalled = true;
    // The stall is lifted long after every timeout; all answers must come before that.
    const lift = setTimeout(() => {
      stalled = false;
      void link.heal();
    }, 20_000);
    const whileStalled = async (p: Promise<Response>) => {
      const res = await p;
      return { res, stalled };
    };
    try {
      const [r, a, c] = await Promise.all([whileStalled(ready(base)), whileStalled(ask(base)), whileStalled(chat(base, 'pg-fault-3'))]);
      expect([r.stalled, a.stalled, c.stalled]).toEqual([true, true, true]);
      await expectNotReady(r.res);
      await expectMaintenance(a.res);
      await expectMaintenance(c.res);
      // Connections opened during the stall wait no longer than the connect timeout either.
      const again = await whileStalled(chat(base, 'pg-fault-4'));
      expect(again.stalled).toBe(true);
      await expectMaintenance(again.res);
    } finally {
      clearTimeout(lift);
    }
    await link.heal();
    await expectServed(base, 'pg-fault-3');
  }, 60_000);
});

describe('database faults on PGlite, with a database that fails or never answers', () => {
  const t = useTestServer(env);
  const saved: Partial<Pick<Database, 'query' | 'transaction'>> = {};

  /** Makes every query and transaction of the running server behave as `fail` says. */
  const breakDatabase = (fail: () => Promise<never>) => {
    const db = t.server.db as { -readonly [K in keyof Database]: Database[K] };
    saved.query ??= db.query;
    saved.transaction ??= db.transaction;
    db.query = fail;
    db.transaction = fail;
  };

  const restoreDatabase = () => {
    const db = t.server.db as { -readonly [K in keyof Database]: Database[K] };
    if (saved.query) db.query = saved.query;
    if (saved.transaction) db.transaction = saved.transaction;
    delete saved.query;
    delete saved.transaction;
  };

  beforeAll(() => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(restoreDatabase);
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it('answers 503 with Retry-After when the server is shutting down, and serves again after', async () => {
    breakDatabase(() => Promise.reject(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })));
    await expectMaintenance(await ask(t.base));
    await expectMaintenance(await chat(t.base, 'lite-fault-1'));
    await expectNotReady(await ready(t.base));
    restoreDatabase();
    await expectServed(t.base, 'lite-fault-1');
  });

  it('keeps 500 for a database error that waiting will not fix', async () => {
    breakDatabase(() => Promise.reject(Object.assign(new Error('relation "question_log" does not exist'), { code: '42P01' })));
    const res = await ask(t.base);
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('answers /readyz with 503 when the database never answers', async () => {
    breakDatabase(() => new Promise<never>(() => {}));
    // The check never settles: only /readyz's own bound can answer it.
    await expectNotReady(await ready(t.base));
  }, 30_000);
});
