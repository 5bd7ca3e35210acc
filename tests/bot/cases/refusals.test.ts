/**
 * Cases the platform refuses or never answers: a key rotation (401) keeps the case and
 * retries it; an invalid case (422) waits for staff, who see it over the staff API and
 * resend it corrected; a hanging platform does not hold the citizen's turn.
 */
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CaseService, type CaseRequest } from '../../../bot/cases/service.ts';
import type { Database } from '../../../bot/store/database.ts';
import { getEntry } from '../../../bot/store/outbox.ts';
import { outboxRoutes } from '../../../bot/server/outbox-routes.ts';
import { handlersOnly, staffAuth } from '../../../bot/server/staff-routes.ts';
import { CasePlatformClient } from '../../../integrations/case-platform/client.ts';
import { externalPlatform } from '../../../integrations/case-platform/platform.ts';
import type { Case } from '../../../integrations/case-platform/types.ts';
import { testStores } from '../../helpers/databases.ts';
import { text } from '../../../handlers/texts.ts';

const BASE = 'http://platform.test';
const TOKEN = 'staff-token-0123456789';
const request = (userId: string, description = '窗口工作人员态度很差，多次推诿不给办理。'): CaseRequest => ({
  channel: 'web',
  userId,
  newCase: { type: '投诉', description, category: '窗口服务', citizen: { id: `web:${userId}`, mobile: '13812345678', name: '王五', consentToContact: true } },
});
const created = (id: string, description: string) => ({ id, status: 'submitted', type: '投诉', description, round: 1, level: 1, createdAt: '2026-11-23T09:00:00Z', handlingUnit: '督察支队' });

interface Told {
  late: Array<{ request: CaseRequest; c: Case }>;
  invalid: Array<{ request: CaseRequest; reason: string }>;
}

function service(db: Database): { service: CaseService; told: Told } {
  const told: Told = { late: [], invalid: [] };
  // As engine.ts builds it: the client's defaults (5 s, 3 retries), only the backoff short.
  const platform = externalPlatform(new CasePlatformClient({ baseUrl: BASE, apiKey: 'k', backoffMs: 1 }));
  const s = new CaseService(db, platform, (request, c) => void told.late.push({ request, c }), {
    onInvalid: (request, reason) => void told.invalid.push({ request, reason }),
  });
  return { service: s, told };
}

describe.each(testStores)('refused and unanswered cases on $name', (store) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await store.open());
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await cleanup();
  });

  it('keeps a case refused with 401 (a rotated key), retries it at most a minute apart, and creates it once when the key works', async () => {
    const { service: cases, told } = service(db);
    const keys: string[] = [];
    nock(BASE)
      .post('/cases')
      .times(6)
      .reply(function () {
        keys.push(String(this.req.headers['idempotency-key']));
        return [401, { error: 'invalid api key' }];
      });
    const first = await cases.submit(request('k1'), 'case:web:k1:1');
    expect(first).toEqual({ kind: 'provisional', reference: expect.stringMatching(/^T\d{6}$/) });
    const id = Number(first.kind === 'provisional' ? first.reference.slice(1) : 0);

    const gaps: number[] = [];
    for (let i = 0; i < 5; i++) {
      const due = (await getEntry(db, id))!.nextAttemptAt.getTime();
      const [e] = await cases.retryDue(() => new Date(due));
      expect(e).toMatchObject({ id, status: 'pending', lastStatus: 401, blockedReason: expect.stringContaining('401') });
      gaps.push(e!.nextAttemptAt.getTime() - due);
    }
    expect(gaps).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(told).toEqual({ late: [], invalid: [] });

    // The key is fixed on the platform's side.
    let creates = 0;
    nock(BASE)
      .post('/cases')
      .reply(function () {
        keys.push(String(this.req.headers['idempotency-key']));
        creates++;
        return [201, created('EXT-401', '窗口工作人员态度很差，多次推诿不给办理。')];
      });
    const due = (await getEntry(db, id))!.nextAttemptAt.getTime();
    await cases.retryDue(() => new Date(due));
    const later = () => new Date(due + 86_400_000);
    expect(await cases.retryDue(later)).toEqual([]);
    expect(creates).toBe(1);
    expect(new Set(keys)).toEqual(new Set(['case:web:k1:1']));
    expect(told.late).toHaveLength(1);
    expect(told.late[0]).toMatchObject({ request: { channel: 'web', userId: 'k1', reference: first.kind === 'provisional' ? first.reference : '' }, c: { id: 'EXT-401' } });
    expect(told.invalid).toEqual([]);
    expect(await cases.submit(request('k1'), 'case:web:k1:1')).toMatchObject({ kind: 'submitted', case: { id: 'EXT-401' } });
  });

  it('holds a case the platform calls invalid (422), tells the citizen once, shows it to staff masked, and creates it once after a fix', async () => {
    const { service: cases, told } = service(db);
    // First try: the platform is down; the citizen gets a provisional reference.
    nock(BASE).post('/cases').reply(503, { error: 'down' });
    const first = await cases.submit(request('v1', '有人在小区门口卖假证，电话13900001111。'), 'case:web:v1:1');
    expect(first.kind).toBe('provisional');
    const reference = first.kind === 'provisional' ? first.reference : '';
    const id = Number(reference.slice(1));
    // Back, but it refuses this case (the client's own retries do not repeat a 422).
    nock(BASE).post('/cases').reply(422, { error: 'category 窗口服务 does not exist' });
    const [held] = await cases.retryDue(() => new Date(Date.now() + 3_600_000));
    expect(held).toMatchObject({ id, status: 'invalid', lastStatus: 422 });
    expect(told.invalid).toEqual([{ request: expect.objectContaining({ userId: 'v1', reference }), reason: 'case platform answered 422: category 窗口服务 does not exist' }]);
    expect(await cases.retryDue(() => new Date(Date.now() + 86_400_000))).toEqual([]);
    expect(told.invalid).toHaveLength(1);
    // A repeated submit of the same case says the same.
    expect(await cases.submit(request('v1'), 'case:web:v1:1')).toEqual({ kind: 'invalid', reference });
    // The citizen-facing text exists and carries the reference.
    expect(text('case_invalid', { ref: reference })).toContain(reference);

    const app = express();
    const supervisor = (_req: Request, res: Response, next: NextFunction) => {
      res.locals.staff = { username: 'zhao', roles: ['supervisor'] };
      res.locals.audit = async () => {};
      next();
    };
    app.use('/sup', outboxRoutes(db, supervisor, handlersOnly, cases));
    app.use(outboxRoutes(db, staffAuth(db, TOKEN), handlersOnly, cases));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const json = { ...auth, 'content-type': 'application/json' };
    try {
      expect((await fetch(`${base}/api/staff/outbox?status=invalid`)).status).toBe(401);
      const list = await fetch(`${base}/api/staff/outbox?status=invalid`, { headers: auth });
      expect(list.status).toBe(200);
      const body = (await list.json()) as { entries: Array<Record<string, unknown>> };
      const shown = body.entries.find((e) => e.id === id)!;
      expect(shown).toMatchObject({ kind: 'create_case', status: 'invalid', reference, attempts: 2, lastStatus: 422, lastError: expect.stringContaining('422') });
      expect(shown.payload).toMatchObject({ userId: 'v1', newCase: { category: '窗口服务', citizen: { mobile: '138****5678', name: '王五' } } });
      expect(JSON.stringify(body)).not.toContain('13812345678');
      // Supervisors may look, not resend.
      expect((await fetch(`${base}/sup/api/staff/outbox?status=invalid`)).status).toBe(200);
      expect((await fetch(`${base}/sup/api/staff/outbox/${id}/resend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(403);

      // Bad input is a 400 with a reason, never a 500, and changes nothing.
      for (const [url, payload] of [
        [`${base}/api/staff/outbox?status=done`, null],
        [`${base}/api/staff/outbox?limit=0`, null],
        [`${base}/api/staff/outbox/abc/resend`, '{}'],
        [`${base}/api/staff/outbox/${id}/resend`, '{"newCase":{"description":"太短"}}'],
        [`${base}/api/staff/outbox/${id}/resend`, '{"newCase":{"mobile":"13900000000"}}'],
        [`${base}/api/staff/outbox/${id}/resend`, '{"newCase":{"type":"闲聊"}}'],
        [`${base}/api/staff/outbox/${id}/resend`, '{"case":{}}'],
        [`${base}/api/staff/outbox/${id}/resend`, '[1]'],
      ] as const) {
        const r = await fetch(url, payload === null ? { headers: auth } : { method: 'POST', headers: json, body: payload });
        expect([url, payload, r.status]).toEqual([url, payload, 400]);
        expect(((await r.json()) as { error: string }).error).toBeTruthy();
      }
      expect((await fetch(`${base}/api/staff/outbox/99999999/resend`, { method: 'POST', headers: json, body: '{}' })).status).toBe(404);
      expect((await getEntry(db, id))?.status).toBe('invalid');

      // A handler corrects the category and resends: created once, with the same key.
      const sent: Array<{ key: string; category: string; mobile: string }> = [];
      nock(BASE)
        .post('/cases')
        .reply(function (_uri, b) {
          const nc = b as { category: string; citizen: { mobile: string } };
          sent.push({ key: String(this.req.headers['idempotency-key']), category: nc.category, mobile: nc.citizen.mobile });
          return [201, created('EXT-422', '有人在小区门口卖假证，电话13900001111。')];
        });
      const resent = await fetch(`${base}/api/staff/outbox/${id}/resend`, { method: 'POST', headers: json, body: JSON.stringify({ newCase: { category: '治安管理' } }) });
      expect(resent.status).toBe(200);
      expect(await resent.json()).toMatchObject({ caseId: 'EXT-422', entry: { id, status: 'done', resentBy: 'system' } });
      expect(sent).toEqual([{ key: 'case:web:v1:1', category: '治安管理', mobile: '13812345678' }]);
      expect(told.late).toEqual([{ request: expect.objectContaining({ userId: 'v1', reference }), c: expect.objectContaining({ id: 'EXT-422' }) }]);
      expect(told.invalid).toHaveLength(1);
      // Delivered: redacted, gone from the list, and a second resend is refused.
      const stored = (await getEntry(db, id))!;
      expect(JSON.stringify(stored)).not.toMatch(/13812345678|王五|13900001111/);
      expect(stored.payload).toMatchObject({ userId: 'v1', newCase: { category: '治安管理', description: '有人在小区门口卖假证，电话139****1111。' } });
      const after = (await (await fetch(`${base}/api/staff/outbox?status=invalid`, { headers: auth })).json()) as { entries: Array<{ id: number }> };
      expect(after.entries.map((e) => e.id)).not.toContain(id);
      expect((await fetch(`${base}/api/staff/outbox/${id}/resend`, { method: 'POST', headers: json, body: '{}' })).status).toBe(409);
      expect(await cases.retryDue(() => new Date(Date.now() + 86_400_000))).toEqual([]);
      expect(sent).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('tells a case refused as invalid at its first try as held, without a second notice', async () => {
    const { service: cases, told } = service(db);
    nock(BASE).post('/cases').reply(400, { error: 'description contains forbidden words' });
    const r = await cases.submit(request('v2'), 'case:web:v2:1');
    expect(r).toEqual({ kind: 'invalid', reference: expect.stringMatching(/^T\d{6}$/) });
    // The turn says it (kind 'invalid'); onInvalid is for cases that were waiting.
    await cases.retryDue(() => new Date(Date.now() + 86_400_000));
    expect(told.invalid).toEqual([]);
  });

  it('does not hold the citizen on a hanging platform: the first try is cut after about 2 s, the rest happens in the background', async () => {
    const { service: cases, told } = service(db);
    const hanging = nock(BASE).post('/cases').delay(15_000).reply(201, created('EXT-SLOW', 'x'));
    const started = Date.now();
    const r = await cases.submit(request('h1'), 'case:web:h1:1');
    const took = Date.now() - started;
    expect(r.kind).toBe('provisional');
    expect(hanging.isDone()).toBe(true);
    // Cut by its own timeout (not the 5 s default, not four of them: 21.5 s before).
    expect(took).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeLessThan(5_000);
    const id = Number(r.kind === 'provisional' ? r.reference.slice(1) : 0);
    expect(await getEntry(db, id)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'case platform timed out', lastStatus: 0, blockedReason: null });

    nock.cleanAll();
    nock(BASE).post('/cases').reply(201, created('EXT-SLOW', 'x'));
    await cases.retryDue(() => new Date(Date.now() + 60_000));
    expect(told.late.map((t) => t.c.id)).toEqual(['EXT-SLOW']);
  });

  it('counts feedback the platform already has (409 after a lost answer) as delivered', async () => {
    const { service: cases } = service(db);
    nock(BASE).post('/cases/EXT-1/feedback').reply(409, { error: 'round already rated' });
    expect(await cases.send('feedback', 'feedback:EXT-1:1', { caseId: 'EXT-1', feedback: { round: 1, rating: '满意' } })).toBe(true);
  });
});
