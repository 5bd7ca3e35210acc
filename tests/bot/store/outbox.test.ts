import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { backoffDelay, deliverDue, enqueue, getEntry, listStuck, outboxHealth, redact, redactDelivered, resendEntry, type Deliverer } from '../../../bot/store/outbox.ts';
import type { Database } from '../../../bot/store/database.ts';
import { listMigrations, migrate } from '../../../bot/store/migrate.ts';
import { CasePlatformClient, CasePlatformError } from '../../../integrations/case-platform/client.ts';
import { faultOf } from '../../../integrations/case-platform/platform.ts';
import type { NewCase } from '../../../integrations/case-platform/types.ts';
import { testStores } from '../../helpers/databases.ts';

const BASE = 'http://cases.test';
const client = new CasePlatformClient({ baseUrl: BASE, apiKey: 'k', timeoutMs: 200, retries: 0 });
const createCase: Deliverer = async (e) => {
  try {
    return { ok: true, result: await client.createCase(e.payload as NewCase, e.idempotencyKey) };
  } catch (err) {
    const x = err as CasePlatformError;
    const fault = faultOf(x);
    return { ok: false, error: x.message, status: x.status, fault: fault === 'conflict' ? 'invalid' : fault };
  }
};
const newCase: NewCase = { type: '投诉', description: '窗口工作人员态度很差，多次推诿。', citizen: { id: 'web:u1', mobile: '13812345678', consentToContact: true } };
const accepted = (description: string) => ({ id: 'C-1', status: 'accepted', type: '投诉', description, round: 1, level: 1, createdAt: '2026-11-23T09:00:00Z' });

describe.each(testStores)('outbox on $name', (store) => {
  let cleanup: () => Promise<void> = async () => {};
  beforeAll(() => nock.disableNetConnect());
  afterEach(async () => {
    nock.cleanAll();
    await cleanup();
  });
  afterAll(() => nock.enableNetConnect());

  it('keeps a call through a platform outage and delivers it once the platform is back, with no duplicate', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const { db } = s;
    const entry = await enqueue(db, 'create_case', 'case-web:u1-1', newCase);
    // The same request again (a double click, a retried HTTP call) is the same entry.
    expect((await enqueue(db, 'create_case', 'case-web:u1-1', newCase)).id).toBe(entry.id);

    let t = Date.now() + 1_000;
    const now = () => new Date(t);
    nock(BASE).post('/cases').times(2).reply(503, { error: 'down' });
    expect((await deliverDue(db, { create_case: createCase }, { now, backoffMs: 1000 }))[0]).toMatchObject({ status: 'pending', attempts: 1 });
    // Not due yet: nothing is tried.
    expect(await deliverDue(db, { create_case: createCase }, { now, backoffMs: 1000 })).toEqual([]);
    t += 1_000;
    expect((await deliverDue(db, { create_case: createCase }, { now, backoffMs: 1000 }))[0]).toMatchObject({ status: 'pending', attempts: 2 });

    const keys: string[] = [];
    nock(BASE)
      .post('/cases')
      .reply(function () {
        keys.push(String(this.req.headers['idempotency-key']));
        return [201, { id: 'C-1', status: 'accepted', type: '投诉', description: newCase.description, round: 1, level: 1, createdAt: now().toISOString() }];
      });
    t += 2_000;
    const [done] = await deliverDue(db, { create_case: createCase }, { now, backoffMs: 1000 });
    expect(done).toMatchObject({ status: 'done', attempts: 3 });
    expect(keys).toEqual(['case-web:u1-1']);
    expect((await getEntry(db, entry.id))?.result).toMatchObject({ id: 'C-1' });
    t += 3_600_000;
    expect(await deliverDue(db, { create_case: createCase }, { now })).toEqual([]);
  });

  it('holds a call the platform finds invalid for staff, keeping the reason, and never retries it by itself', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const entry = await enqueue(s.db, 'create_case', 'case-bad', { ...newCase, description: '太短' });
    nock(BASE).post('/cases').reply(422, { error: 'description too short' });
    const [e] = await deliverDue(s.db, { create_case: createCase });
    expect(e).toMatchObject({ status: 'invalid', attempts: 1, lastStatus: 422, blockedReason: null, lastError: 'case platform answered 422: description too short' });
    // Hours later it is still held, untouched: no call reaches the platform (nock would refuse it).
    expect(await deliverDue(s.db, { create_case: createCase }, { now: () => new Date(Date.now() + 86_400_000) })).toEqual([]);
    expect((await listStuck(s.db, 'invalid')).map((x) => x.id)).toEqual([entry.id]);
    // Kept whole, for staff to correct: the payload is not redacted while it waits.
    expect((await getEntry(s.db, entry.id))?.payload).toMatchObject({ citizen: { mobile: '13812345678' } });
  });

  it('keeps retrying a refusal that looks like configuration (401), at most a minute apart, until it goes through once', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const entry = await enqueue(s.db, 'create_case', 'case-key-rotated', newCase);
    let t = Date.now() + 1_000;
    const now = () => new Date(t);
    nock(BASE).post('/cases').times(8).reply(401, { error: 'invalid api key' });
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      const [e] = await deliverDue(s.db, { create_case: createCase }, { now });
      expect(e).toMatchObject({ status: 'pending', attempts: i + 1, lastStatus: 401, blockedReason: 'case platform answered 401: invalid api key' });
      gaps.push(e!.nextAttemptAt.getTime() - t);
      // Not due a moment before its time.
      t = e!.nextAttemptAt.getTime() - 1;
      expect(await deliverDue(s.db, { create_case: createCase }, { now })).toEqual([]);
      t += 1;
    }
    expect(gaps).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]);
    expect(await listStuck(s.db, 'blocked')).toHaveLength(1);

    let creates = 0;
    nock(BASE)
      .post('/cases')
      .reply(() => {
        creates++;
        return [201, accepted(newCase.description)];
      });
    const [done] = await deliverDue(s.db, { create_case: createCase }, { now });
    expect(done).toMatchObject({ status: 'done', attempts: 9, blockedReason: null, lastError: null });
    t += 3_600_000;
    expect(await deliverDue(s.db, { create_case: createCase }, { now })).toEqual([]);
    expect(creates).toBe(1);
    expect(await listStuck(s.db)).toEqual([]);
    expect((await getEntry(s.db, entry.id))?.status).toBe('done');
  });

  it('keeps retrying an outage for as long as it lasts, the backoff capped at an hour', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    await enqueue(s.db, 'create_case', 'case-long-outage', newCase);
    let t = Date.now() + 1_000;
    nock(BASE).post('/cases').times(14).reply(503, { error: 'down' });
    let last;
    for (let i = 0; i < 14; i++) {
      [last] = await deliverDue(s.db, { create_case: createCase }, { now: () => new Date(t) });
      expect(last?.status).toBe('pending');
      t = last!.nextAttemptAt.getTime();
    }
    // 14 attempts (more than the ten after which it used to be dropped), still waiting.
    expect(last).toMatchObject({ attempts: 14, blockedReason: null, lastStatus: 503 });
    expect(backoffDelay(14, 'transient')).toBe(3_600_000);
    expect(backoffDelay(100_000, 'blocked')).toBe(60_000);
  });

  it('redacts a delivered entry: no mobile, name or place, numbers in text masked; who and what stay', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const request = {
      channel: 'web',
      userId: 'u9',
      newCase: {
        type: '举报',
        description: '有人冒充民警打电话 13900001111 要我转账，我的身份证 110101199003071234 被他知道了',
        place: '朝阳区某小区 3 号楼',
        category: '电信诈骗',
        citizen: { id: 'web:u9', mobile: '13812345678', name: '张三', consentToContact: true },
      },
    };
    const entry = await enqueue(s.db, 'create_case', 'case-redact', request);
    nock(BASE)
      .post('/cases', (b) => b.citizen.mobile === '13812345678' && b.citizen.name === '张三')
      .reply(201, { ...accepted(request.newCase.description), id: 'C-7', handlingUnit: '刑侦支队', steps: [{ at: 'x', actor: 'y', action: '受理', note: '已致电 13812345678' }] });
    const deliverer: Deliverer = async (e, call) => createCase({ ...e, payload: (e.payload as typeof request).newCase }, call);
    const [done] = await deliverDue(s.db, { create_case: deliverer });
    const stored = (await getEntry(s.db, entry.id))!;
    for (const kept of [done!, stored]) {
      expect(kept.payload).toEqual({
        channel: 'web',
        userId: 'u9',
        newCase: {
          type: '举报',
          description: '有人冒充民警打电话 139****1111 要我转账，我的身份证 110101********1234 被他知道了',
          category: '电信诈骗',
          citizen: { id: 'web:u9', consentToContact: true },
        },
      });
      expect(kept.result).toMatchObject({ id: 'C-7', handlingUnit: '刑侦支队', description: expect.stringContaining('139****1111') });
      expect(kept.result).not.toHaveProperty('steps');
    }
    expect(JSON.stringify(stored)).not.toMatch(/13812345678|张三|13900001111|19900307|3 号楼/);
    // What later code looks up by still matches.
    const { rows } = await s.db.query(`SELECT id FROM outbox WHERE kind = 'create_case' AND payload->>'channel' = 'web' AND payload->>'userId' = 'u9' AND result->>'id' = 'C-7'`);
    expect(rows).toHaveLength(1);
  });

  it('redacts entries delivered before redaction existed', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    await s.db.query(`INSERT INTO outbox (kind, idempotency_key, payload, status, result) VALUES ('create_case', 'old-1', $1, 'done', $2)`, [
      JSON.stringify({ channel: 'web', userId: 'u1', newCase }),
      JSON.stringify(accepted('回电 13812345678')),
    ]);
    expect(await redactDelivered(s.db)).toBe(1);
    expect(await redactDelivered(s.db)).toBe(0);
    const { rows } = await s.db.query<{ payload: unknown; result: unknown }>(`SELECT payload, result FROM outbox WHERE idempotency_key = 'old-1'`);
    expect(JSON.stringify(rows[0])).not.toContain('13812345678');
    expect(rows[0]!.result).toMatchObject({ id: 'C-1', description: '回电 138****5678' });
  });

  it('resends a held entry with corrected fields merged into its payload, due now, recording who', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const entry = await enqueue(s.db, 'create_case', 'case-fix', { channel: 'web', userId: 'u1', newCase: { ...newCase, place: '某地' } });
    await s.db.query(`UPDATE outbox SET status = 'invalid', attempts = 3, last_error = 'x' WHERE id = $1`, [entry.id]);
    const at = new Date();
    const r = await resendEntry(s.db, entry.id, 'li', { key: 'newCase', set: { description: '改过的描述，足够十个字以上。' }, remove: ['place'] }, at);
    expect(r).toMatchObject({ status: 'pending', attempts: 0, resentBy: 'li', nextAttemptAt: at });
    expect(r!.payload).toEqual({ channel: 'web', userId: 'u1', newCase: { ...newCase, description: '改过的描述，足够十个字以上。' } });
    expect(await resendEntry(s.db, 999_999, 'li')).toBeNull();
  });

  it('sums up waiting, blocked and invalid calls for the health check', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    expect(await outboxHealth(s.db)).toEqual({ pending: 0, blocked: 0, invalid: 0, oldestPendingSeconds: null, warnings: [] });
    for (const k of ['h1', 'h2', 'h3', 'h4']) await enqueue(s.db, 'create_case', k, newCase);
    nock(BASE).post('/cases').reply(401, { error: 'bad key' }).post('/cases').reply(422, { error: 'bad' }).post('/cases').reply(503, { error: 'down' });
    await deliverDue(s.db, { create_case: createCase }, { limit: 3 });
    const h = await outboxHealth(s.db, new Date(Date.now() + 600_000));
    expect(h).toMatchObject({ pending: 3, blocked: 1, invalid: 1 });
    expect(h.oldestPendingSeconds).toBeGreaterThanOrEqual(599);
    expect(h.warnings.join('\n')).toMatch(/1 call\(s\) refused by the case platform \(401\)/);
    expect(h.warnings.join('\n')).toMatch(/invalid/);
    expect(h.warnings.join('\n')).toMatch(/oldest waiting call/);
  });
});

describe('redact', () => {
  it('drops personal keys at any depth and masks numbers in every text', () => {
    expect(redact({ a: ['电话 13812345678'], citizen: { id: 'x', mobile: '1', name: 'n' }, n: 3, z: null })).toEqual({ a: ['电话 138****5678'], citizen: { id: 'x' }, n: 3, z: null });
  });
});

describe('migration 012 on entries given up before it', () => {
  it('takes every failed entry back: config refusals retried as blocked, refusals of the call held as invalid, the rest retried', async () => {
    const pg = new PGlite();
    const db: Database = {
      kind: 'pglite',
      query: async (sql, params) => ({ rows: (await pg.query(sql, params)).rows as never[] }),
      exec: async (sql) => void (await pg.exec(sql)),
      transaction: (fn) => pg.transaction((tx) => fn({ query: async (sql, params) => ({ rows: (await tx.query(sql, params)).rows as never[] }), exec: async (sql) => void (await tx.exec(sql)) })),
      close: () => pg.close(),
    };
    try {
      await migrate(db, listMigrations().filter((m) => m.version < 12));
      const failed = ['case platform answered 401: bad key', 'callback answered 403', 'case platform answered 422: bad', 'case platform answered 503: down', 'case platform timed out', 'no deliverer for "x"'];
      for (const [i, err] of failed.entries()) {
        await db.query(`INSERT INTO outbox (kind, idempotency_key, payload, status, attempts, last_error) VALUES ('create_case', $1, '{}', 'failed', 1, $2)`, [`k${i}`, err]);
      }
      await migrate(db);
      const { rows } = await db.query<{ status: string; blocked: string | null; last_status: number | null }>(
        `SELECT status, blocked_reason AS blocked, last_status FROM outbox ORDER BY idempotency_key`,
      );
      expect(rows).toEqual([
        { status: 'pending', blocked: 'case platform answered 401: bad key', last_status: 401 },
        { status: 'pending', blocked: 'callback answered 403', last_status: 403 },
        { status: 'invalid', blocked: null, last_status: 422 },
        { status: 'pending', blocked: null, last_status: null },
        { status: 'pending', blocked: null, last_status: null },
        { status: 'pending', blocked: null, last_status: null },
      ]);
      await expect(db.query(`UPDATE outbox SET status = 'failed'`)).rejects.toThrow();
    } finally {
      await db.close();
    }
  });
});
