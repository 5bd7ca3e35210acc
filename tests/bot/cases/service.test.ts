/** Cases through the outbox against an external platform that is down, then back. */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CaseService, type CaseRequest } from '../../../bot/cases/service.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { CasePlatformClient } from '../../../integrations/case-platform/client.ts';
import { externalPlatform } from '../../../integrations/case-platform/platform.ts';
import type { Case } from '../../../integrations/case-platform/types.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';
import { useTempPglite } from '../../helpers/databases.ts';
import { loadConfig } from '../../../bot/config.ts';
import { createDialogEngine } from '../../../bot/engine.ts';
import { openKnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';

const BASE = 'http://platform.test';
const request: CaseRequest = {
  channel: 'web',
  userId: 'u1',
  newCase: { type: '投诉', description: '窗口工作人员态度很差，多次推诿不给办理。', citizen: { id: 'web:u1', mobile: '13812345678', consentToContact: true } },
};
const created = { id: 'EXT-9', status: 'submitted', type: '投诉', description: request.newCase.description, round: 1, level: 1, createdAt: '2026-11-23T09:00:00Z', handlingUnit: '督察支队', dueAt: '2026-11-26T09:00:00Z' };

describe('cases through the outbox', () => {
  const store = useTempPglite();
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('gives a provisional reference during an outage and the real number once the platform is back, with no duplicate', async () => {
    const told: Array<{ request: CaseRequest; c: Case }> = [];
    const platform = externalPlatform(new CasePlatformClient({ baseUrl: BASE, apiKey: 'k', timeoutMs: 200, retries: 1, backoffMs: 1 }));
    const service = new CaseService(store.db, platform, (r, c) => void told.push({ request: r, c }));

    nock(BASE).post('/cases').times(2).reply(503, { error: 'down' });
    const first = await service.submit(request, 'case:web:u1:1');
    expect(first).toEqual({ kind: 'provisional', reference: expect.stringMatching(/^T\d{6}$/) });
    // A double submit of the same case is the same outbox entry, still waiting.
    expect(await service.submit(request, 'case:web:u1:1')).toEqual(first);

    const keys: string[] = [];
    nock(BASE)
      .post('/cases')
      .reply(function () {
        keys.push(String(this.req.headers['idempotency-key']));
        return [201, created];
      });
    const later = () => new Date(Date.now() + 3_600_000);
    await service.retryDue(later);
    expect(keys).toEqual(['case:web:u1:1']);
    expect(told).toHaveLength(1);
    expect(told[0]!.c.id).toBe('EXT-9');
    expect(told[0]!.request.reference).toBe(first.kind === 'provisional' ? first.reference : '');
    // Nothing left to send: no second case.
    expect(await service.retryDue(later)).toEqual([]);
    // The same key again returns the case that was made.
    expect(await service.submit(request, 'case:web:u1:1')).toMatchObject({ kind: 'submitted', case: { id: 'EXT-9' } });
  });
});

describe('a case number that arrives late', () => {
  it('reaches a citizen with no open chat at their next message', async () => {
    nock.disableNetConnect();
    const dir = tempDir();
    const config = loadConfig({ DATA_DIR: dir, CASE_PLATFORM_URL: BASE, CASE_PLATFORM_KEY: 'k', CASE_CALLBACK_SECRET: 'secret-0123456789abcdef' });
    const kb = await openKnowledgeBase(config);
    const db = await openDatabase(config);
    try {
      const engine = createDialogEngine(config, kb, db, () => 0);
      const say = (text: string) => engine.handle({ channel: 'web', userId: 'late-1', kind: 'text', text });
      const menu = (menuId: string) => engine.handle({ channel: 'web', userId: 'late-1', kind: 'menu', menuId });
      nock(BASE).post('/cases').times(10).reply(503, { error: 'down' });
      await say('我要投诉窗口工作人员态度很差，办居住证一直推诿');
      await menu('case:skip');
      await say('13812345678');
      await menu('case:skip');
      await menu('case:consent:yes');
      const submitted = await menu('case:submit');
      const provisional = submitted.replies.map((r) => (r.type === 'text' ? r.text : '')).join('');
      expect(provisional).toMatch(/临时编号 T\d{6}/);

      nock.cleanAll();
      nock(BASE).post('/cases').reply(201, { ...created, id: 'EXT-42' });
      await engine.cases.retryDue(() => new Date(Date.now() + 3_600_000));
      const next = await say('你好');
      const text = next.replies.map((r) => (r.type === 'text' ? r.text : r.type === 'menu' ? r.head : '')).join('\n');
      expect(text).toContain('正式编号 EXT-42');
      expect(text).toContain(/临时编号 (T\d{6})/.exec(provisional)![1]);
      // Told once.
      const after = await say('谢谢');
      expect(after.replies.map((r) => (r.type === 'text' ? r.text : '')).join('')).not.toContain('EXT-42');
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
      await db.close();
      removeDir(dir);
    }
  });
});
