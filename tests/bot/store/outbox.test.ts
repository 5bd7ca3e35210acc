import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue, enqueue, getEntry, type Deliverer } from '../../../bot/store/outbox.ts';
import { CasePlatformClient, CasePlatformError } from '../../../integrations/case-platform/client.ts';
import type { NewCase } from '../../../integrations/case-platform/types.ts';
import { testStores } from '../../helpers/databases.ts';

const BASE = 'http://cases.test';
const client = new CasePlatformClient({ baseUrl: BASE, apiKey: 'k', timeoutMs: 200, retries: 0 });
const createCase: Deliverer = async (e) => {
  try {
    return { ok: true, result: await client.createCase(e.payload as NewCase, e.idempotencyKey) };
  } catch (err) {
    const x = err as CasePlatformError;
    return { ok: false, error: x.message, retryable: x.retryable };
  }
};
const newCase: NewCase = { type: '投诉', description: '窗口工作人员态度很差，多次推诿。', citizen: { id: 'web:u1', mobile: '13812345678', consentToContact: true } };

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

  it('gives up on a refusal that will not pass, keeping the reason', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    await enqueue(s.db, 'create_case', 'case-bad', { ...newCase, description: '太短' });
    nock(BASE).post('/cases').reply(400, { error: 'description too short' });
    const [e] = await deliverDue(s.db, { create_case: createCase });
    expect(e).toMatchObject({ status: 'failed', attempts: 1, lastError: 'case platform answered 400: description too short' });
  });
});
