import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CasePlatformClient, CasePlatformError } from '../../../integrations/case-platform/client.ts';
import type { Case, NewCase } from '../../../integrations/case-platform/types.ts';

const BASE = 'http://cases.test';
const client = new CasePlatformClient({ baseUrl: `${BASE}/api/v1/`, apiKey: 'k-123', timeoutMs: 300, retries: 3, backoffMs: 5 });
const newCase: NewCase = {
  type: '投诉',
  description: '派出所窗口工作人员态度很差，办理居住证时多次推诿。',
  citizen: { id: 'web:u1', mobile: '13812345678', consentToContact: true },
};
const created: Case = { id: 'C2026-0001', status: 'accepted', type: '投诉', description: newCase.description, round: 1, level: 1, createdAt: '2026-11-23T09:00:00Z' };

describe('CasePlatformClient', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('creates a case with the bearer key and an idempotency key', async () => {
    const scope = nock(BASE, { reqheaders: { authorization: 'Bearer k-123', 'idempotency-key': 'case-abc' } })
      .post('/api/v1/cases', (b) => b.type === '投诉' && b.citizen.mobile === '13812345678')
      .reply(201, created);
    await expect(client.createCase(newCase, 'case-abc')).resolves.toEqual(created);
    expect(scope.isDone()).toBe(true);
  });

  it('retries a platform that is down with the same idempotency key, so no second case is made', async () => {
    const keys: string[] = [];
    nock(BASE)
      .post('/api/v1/cases')
      .times(2)
      .reply(function () {
        keys.push(String(this.req.headers['idempotency-key']));
        return [503, { error: 'maintenance' }];
      })
      .post('/api/v1/cases')
      .reply(function () {
        keys.push(String(this.req.headers['idempotency-key']));
        return [201, created];
      });
    await expect(client.createCase(newCase, 'case-xyz')).resolves.toMatchObject({ id: 'C2026-0001' });
    expect(keys).toEqual(['case-xyz', 'case-xyz', 'case-xyz']);
  });

  it('retries timeouts and network errors, then gives up with a retryable error', async () => {
    nock(BASE).get('/api/v1/cases/C1').delay(1000).reply(200, created);
    nock(BASE).get('/api/v1/cases/C1').times(3).replyWithError('connection reset');
    const e = await client.getCase('C1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CasePlatformError);
    expect(e).toMatchObject({ status: 0, retryable: true });
  });

  it('does not retry a request the platform refuses', async () => {
    const scope = nock(BASE).post('/api/v1/cases/C1/feedback').reply(409, { error: 'round already rated' });
    const e = await client.postFeedback('C1', { round: 1, rating: '满意' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 409, retryable: false, message: 'case platform answered 409: round already rated' });
    expect(scope.isDone()).toBe(true);
  });

  it('retries 429 and reads lists, feedback and escalation', async () => {
    nock(BASE).get('/api/v1/cases').query({ citizenId: 'web:u1' }).reply(429, 'slow down').get('/api/v1/cases').query({ citizenId: 'web:u1' }).reply(200, { cases: [created] });
    await expect(client.listCases('web:u1')).resolves.toEqual([created]);
    nock(BASE).post('/api/v1/cases/C2026-0001/escalate', { level: 2, reason: '不满意' }).reply(200, { ...created, level: 2, round: 2 });
    await expect(client.escalate('C2026-0001', { level: 2, reason: '不满意' })).resolves.toMatchObject({ level: 2, round: 2 });
  });

  it('lets one call override the timeout and retries: a first try is one short attempt', async () => {
    const slow = new CasePlatformClient({ baseUrl: BASE, apiKey: 'k', timeoutMs: 5_000, retries: 3, backoffMs: 5 });
    const hanging = nock(BASE).post('/cases').delay(3_000).reply(201, created);
    const spare = nock(BASE).post('/cases').reply(201, created);
    const started = Date.now();
    const e = await slow.createCase(newCase, 'case-hang', { timeoutMs: 100, retries: 0 }).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 0, retryable: true, message: 'case platform timed out' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(hanging.isDone()).toBe(true);
    // No retry in line: the second answer was never asked for.
    expect(spare.isDone()).toBe(false);
    // Without overrides the client's own defaults (retries) apply.
    nock.cleanAll();
    nock(BASE).post('/cases').reply(503, { error: 'x' }).post('/cases').reply(201, created);
    await expect(slow.createCase(newCase, 'case-ok')).resolves.toMatchObject({ id: created.id });
  });
});
