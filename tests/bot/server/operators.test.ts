/**
 * What an operator sees (issue 13 §5): request ids and one JSON log line per request and per
 * turn with personal numbers masked, the Prometheus series, and /readyz failing when the
 * outbox is stuck. Real HTTP; WeCom faked with nock at its HTTP boundary.
 */
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../bot/log.ts';
import { testStores } from '../../helpers/databases.ts';
import { useTestServer } from '../../helpers/server.ts';

const CHAT_TOKEN = 'chat-token-0123456789';
const ID_CARD = '110101199003071234';
const MOBILE = '13812345678';

/** A log destination that keeps the lines, parsed. */
function capture() {
  const raw: string[] = [];
  return {
    raw,
    destination: { write: (s: string) => void raw.push(s) },
    lines: () => raw.map((s) => JSON.parse(s) as Record<string, unknown>),
  };
}

const chat = (base: string, userId: string, text: string) =>
  fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_TOKEN}` }, body: JSON.stringify({ userId, text }) });

describe('operators: logs, metrics and readiness', () => {
  const log = capture();
  // debug: the turn line then carries the citizen's (masked) words, which is what must not leak.
  const t = useTestServer({ CHAT_API_TOKEN: CHAT_TOKEN, CHAT_RATE_PER_MINUTE: '1000', LOG_LEVEL: 'debug' }, undefined, { logDestination: log.destination });
  const requestLines = (id: string) => log.lines().filter((l) => l.msg === 'request' && l.requestId === id);
  /** The line is written when the response has finished: a moment after the client has it. */
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('echoes a sane x-request-id, replaces any other, and logs each request once without its query', async () => {
    const given = await fetch(`${t.base}/healthz?token=secret`, { headers: { 'x-request-id': 'lb-7f3a.2_x' } });
    expect(given.headers.get('x-request-id')).toBe('lb-7f3a.2_x');
    for (const bad of ['x'.repeat(65), 'a b', 'id<script>']) {
      const res = await fetch(`${t.base}/healthz`, { headers: { 'x-request-id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const fresh = (await fetch(`${t.base}/no-such-page`)).headers.get('x-request-id')!;
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    await settle();

    const [line, ...more] = requestLines('lb-7f3a.2_x');
    expect(more).toEqual([]);
    expect(line).toMatchObject({ component: 'http', method: 'GET', path: '/healthz', route: '/healthz', status: 200, level: 'debug' });
    expect(typeof line!.ms).toBe('number');
    expect(typeof line!.time).toBe('string');
    expect(JSON.stringify(line)).not.toContain('secret');
    expect(requestLines(fresh)[0]).toMatchObject({ path: '/no-such-page', route: 'unmatched', status: 404, level: 'info' });
  });

  it('logs a turn in one line — turn id, channel, intent, item, latency — with ID-card and mobile numbers masked', async () => {
    const res = await chat(t.base, 'ops-citizen', `身份证丢了怎么补办，我的身份证号${ID_CARD}，电话${MOBILE}`);
    expect(res.status).toBe(200);
    const reply = await res.json();
    const requestId = res.headers.get('x-request-id')!;
    await settle();

    const turns = log.lines().filter((l) => l.msg === 'turn');
    expect(turns).toHaveLength(1);
    const turn = turns[0]!;
    expect(turn).toMatchObject({ component: 'dialog', channel: 'api', kind: 'text', intent: reply.intent, item: reply.item?.id ?? null, level: 'info' });
    expect(turn.turnId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof turn.ms).toBe('number');
    expect(turn.text).toContain('110101********1234');
    expect(turn.text).toContain('138****5678');
    expect(JSON.stringify(turn)).not.toContain('ops-citizen');
    expect(requestLines(requestId)[0]).toMatchObject({ method: 'POST', path: '/api/chat', route: '/api/chat', status: 200 });
    // Not in this line, nor in any other.
    for (const raw of log.raw) {
      expect(raw).not.toContain(ID_CARD);
      expect(raw).not.toContain(MOBILE);
    }
  });

  it('masks the numbers in every string of a line, whatever the field, the message or an error', () => {
    const out = capture();
    const logger = createLogger('info', out.destination);
    logger.child({ caller: `from ${MOBILE}` }).warn({ deep: { list: [`id ${ID_CARD}`], n: 13812345678 }, err: new Error(`refused ${ID_CARD}`) }, `call ${MOBILE}`);
    const [raw] = out.raw;
    expect(raw).not.toContain(ID_CARD);
    expect(raw).not.toContain(MOBILE);
    const line = JSON.parse(raw!);
    // A number that reads as a mobile is masked too (as text); other numbers stay numbers.
    expect(line).toMatchObject({ level: 'warn', msg: 'call 138****5678', caller: 'from 138****5678', deep: { list: ['id 110101********1234'], n: '138****5678' }, pid: process.pid });
    expect(line.err).toMatchObject({ type: 'Error', message: 'refused 110101********1234' });
    expect(line.err.stack).toContain('110101********1234');
  });

  it('exposes every series on /metrics: turns by intent, requests by route pattern, outbox, database and knowledge release', async () => {
    await chat(t.base, 'ops-metrics', '护照过期了怎么换');
    expect((await fetch(`${t.base}/api/staff/cases/12345`)).status).toBe(401);
    await fetch(`${t.base}/nowhere/13812345678`);
    await settle();
    const res = await fetch(`${t.base}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();

    expect(body).toMatch(/^xiaoan_turn_duration_seconds_bucket\{le="0\.01",intent="answer",channel="api"\} \d+$/m);
    expect(body).toMatch(/^xiaoan_turn_duration_seconds_count\{intent="answer",channel="api"\} [1-9]\d*$/m);
    expect(body).toMatch(/^xiaoan_http_requests_total\{method="POST",route="\/api\/chat",status="200"\} [1-9]\d*$/m);
    // The pattern, never the raw path (one series per route, not per case id or typo).
    expect(body).toMatch(/^xiaoan_http_requests_total\{method="GET",route="\/api\/staff\/cases\/:id",status="401"\} 1$/m);
    expect(body).toMatch(/^xiaoan_http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]\d*$/m);
    expect(body).not.toContain('12345"');
    expect(body).not.toContain('/nowhere');
    expect(body).toContain('# TYPE xiaoan_wecom_api_errors_total counter');
    expect(body).toContain('xiaoan_outbox_calls{state="pending"} 0');
    expect(body).toContain('xiaoan_outbox_oldest_pending_seconds 0');
    expect(body).toContain('xiaoan_handoffs{state="open"} 0');
    // PGlite: one connection, in this process.
    expect(body).toMatch(/^xiaoan_db_pool_total 1$/m);
    expect(body).toMatch(/^xiaoan_db_pool_idle 1$/m);
    expect(body).toMatch(/^xiaoan_db_pool_waiting 0$/m);
    const release = t.server.knowledge.release;
    expect(body).toContain(`xiaoan_knowledge_release{checksum="${release.checksum.slice(0, 12)}"} ${release.id}`);
    expect(body).toContain('xiaoan_process_resident_memory_bytes');
  });

  it('is unready (503, with the reason) when the oldest waiting call is over 10 minutes old; a shorter wait is a warning', async () => {
    const { db } = t.server;
    const waiting = (key: string, minutes: number) =>
      db.query(`INSERT INTO outbox (kind, idempotency_key, payload, status, created_at) VALUES ('create_case', $1, '{}', 'pending', now() - make_interval(mins => $2))`, [key, minutes]);
    try {
      await waiting('ops-stuck', 11);
      const stuck = await fetch(`${t.base}/readyz`);
      expect(stuck.status).toBe(503);
      const body = await stuck.json();
      expect(body).toMatchObject({ ready: false, outbox: { pending: 1 } });
      expect(body.reason).toMatch(/^outbox stuck: the oldest waiting call is 6[6-9]\d s old$/);
      await db.query(`DELETE FROM outbox WHERE idempotency_key = 'ops-stuck'`);

      await waiting('ops-waiting', 5);
      const warned = await fetch(`${t.base}/readyz`);
      expect(warned.status).toBe(200);
      const ok = await warned.json();
      expect(ok).toMatchObject({ ready: true, outbox: { pending: 1 } });
      expect(ok.outbox.warnings.join('\n')).toMatch(/the oldest waiting call is 3\d\d s old/);
    } finally {
      await db.query(`DELETE FROM outbox WHERE idempotency_key LIKE 'ops-%'`);
    }
  });
});

describe('operators: WeCom API errors', () => {
  const api = 'http://qyapi.test';
  const CORP = { corpId: 'wwopscorp', secret: 'ops-secret', token: 'opstoken123', aesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', openKfId: 'wkOPS' };
  // Before the server starts: it pulls at once, and WeCom refuses the secret.
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    nock(api).get('/cgi-bin/gettoken').query(true).reply(200, { errcode: 40001, errmsg: 'invalid credential' });
  });
  afterAll(() => {
    nock.enableNetConnect();
    nock.cleanAll();
  });
  const t = useTestServer({
    WECOM_CORP_ID: CORP.corpId,
    WECOM_TOKEN: CORP.token,
    WECOM_AES_KEY: CORP.aesKey,
    WECOM_SECRET: CORP.secret,
    WECOM_OPEN_KFID: CORP.openKfId,
    WECOM_API_BASE: api,
  });

  it('counts answers with errcode ≠ 0 by errcode', async () => {
    await t.server.wecom!.idle();
    expect(nock.isDone()).toBe(true);
    const body = await (await fetch(`${t.base}/metrics`)).text();
    expect(body).toMatch(/^xiaoan_wecom_api_errors_total\{errcode="40001"\} 1$/m);
  });
});

describe.each(testStores)('database connections for /metrics on $name', (store) => {
  it('tells how many are open, free and waited for', async () => {
    const { db, cleanup } = await store.open();
    try {
      await Promise.all([db.query('SELECT 1'), db.query('SELECT 2'), db.query('SELECT 3')]);
      const use = db.connections!();
      if (db.kind === 'pglite') expect(use).toEqual({ total: 1, idle: 1, waiting: 0 });
      else {
        // The pool keeps what it opened for the three queries, all free again.
        expect(use.total).toBeGreaterThanOrEqual(1);
        expect(use.idle).toBe(use.total);
        expect(use.waiting).toBe(0);
      }
    } finally {
      await cleanup();
    }
  });
});
