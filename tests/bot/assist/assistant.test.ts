/**
 * 热线助手 on each store (PGlite, and PostgreSQL when TEST_DATABASE_URL is set): a call's
 * context lives in the database (another process, or a restart, sees it), is forgotten after
 * a silence, and utterances of one call are read in order; verdicts and unanswered utterances
 * are kept for the knowledge base, until retention deletes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Asker } from '../../../bot/ask.ts';
import { HotlineAssistant } from '../../../bot/assist/assistant.ts';
import { loadCallContext } from '../../../bot/assist/call-context.ts';
import { listFeedback, unansweredUtterances } from '../../../bot/assist/store.ts';
import type { Database } from '../../../bot/store/database.ts';
import { applyRetention } from '../../../bot/store/retention.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';
import { testStores } from '../../helpers/databases.ts';
import { removeDir, testConfig } from '../../helpers/kb.ts';

let kb: KnowledgeBase;
const config = testConfig();
beforeAll(async () => {
  kb = await openKnowledgeBase(config);
});
afterAll(() => removeDir(config.dataDir));

describe.each(testStores)('热线助手 store ($name)', (store) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  const assistant = (ttlMinutes?: number) => new HotlineAssistant({ db, kb, asker: new Asker(kb), ttlMinutes });
  beforeAll(async () => {
    ({ db, cleanup } = await store.open());
  });
  afterAll(async () => cleanup());

  it('keeps a call in the database: another process continues it', async () => {
    await assistant().assist({ text: '驾驶证到期了换证', callId: 'p-1', actor: 'wang' });
    expect(await loadCallContext(db, 'p-1')).toMatchObject({ itemId: 'jsz-02', aspect: 'general' });
    const r = await assistant().assist({ text: '网上能办吗', callId: 'p-1', actor: 'li' });
    expect(r.suggestions[0]).toMatchObject({ itemId: 'jsz-02', aspect: 'online' });
  });

  it('forgets a call after a silence', async () => {
    const quick = assistant(0.02); // 1.2 s
    await quick.assist({ text: '身份证丢了怎么补办', callId: 'p-ttl', actor: 'wang' });
    expect((await quick.assist({ text: '要多少钱', callId: 'p-ttl', actor: 'wang' })).suggestions[0]?.itemId).toBe('sfz-04');
    await new Promise((r) => setTimeout(r, 1_500));
    const later = await quick.assist({ text: '要多少钱', callId: 'p-ttl', actor: 'wang' });
    expect(later.unanswered).toBe(true);
    expect(await loadCallContext(db, 'p-ttl', 0.02)).toEqual({});
  });

  it('reads the utterances of one call in arrival order', async () => {
    const a = assistant();
    const [first, second] = await Promise.all([
      a.assist({ text: '身份证丢了怎么补办', callId: 'p-order', actor: 'wang' }),
      a.assist({ text: '要多少钱', callId: 'p-order', actor: 'wang' }),
    ]);
    expect(second.utteranceId).toBeGreaterThan(first.utteranceId);
    expect(second.suggestions[0]).toMatchObject({ itemId: 'sfz-04', aspect: 'fees' });
  });

  it('keeps verdicts and unanswered utterances for the knowledge base, until retention', async () => {
    const a = assistant();
    const r = await a.assist({ text: '补办身份证要带什么 我手机13900001111', callId: 'p-fb', actor: 'wang' });
    const none = await a.assist({ text: '咕噜咕噜噜啦啦', callId: 'p-fb-2', actor: 'wang' });
    expect(none.unanswered).toBe(true);
    const saved = await a.feedback({ target: { suggestionId: r.suggestions[0]!.id }, verdict: 'edited', editedText: '带户口簿，电话13900001111', actor: 'wang' });
    expect(saved).toMatchObject({ itemId: r.suggestions[0]!.itemId, verdict: 'edited', editedText: '带户口簿，电话139****1111', utterance: '补办身份证要带什么 我手机139****1111' });
    expect(await a.feedback({ target: { suggestionId: `${none.utteranceId}-1` }, verdict: 'useless', actor: 'wang' })).toBeNull();
    expect((await listFeedback(db, { itemId: r.suggestions[0]!.itemId })).map((f) => f.suggestionId)).toContain(r.suggestions[0]!.id);
    expect((await unansweredUtterances(db)).map((u) => u.text)).toContain('咕噜咕噜噜啦啦');

    const report = await applyRetention(db, 180, new Date(Date.now() + 181 * 86_400_000));
    expect(report.assist).toBeGreaterThan(0);
    for (const table of ['assist_utterances', 'assist_feedback', 'assist_calls']) {
      expect(Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n), table).toBe(0);
    }
  });
});
