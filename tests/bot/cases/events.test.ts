/** Surveys after a closed case: asked in an open chat, one per round, a reminder after 48 h, then 未评价. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseEvents } from '../../../bot/cases/events.ts';
import { loadConfig } from '../../../bot/config.ts';
import { createDialogEngine, type DialogEngine } from '../../../bot/engine.ts';
import type { Reply } from '../../../bot/messages.ts';
import { openDatabase, type Database } from '../../../bot/store/database.ts';
import { getSurvey, linkCase } from '../../../bot/cases/store.ts';
import type { Case } from '../../../integrations/case-platform/types.ts';
import { openKnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';

const closed = (round = 1): Case => ({ id: 'XA1', status: 'closed', type: '投诉', description: '噪音扰民，影响休息。', round, level: 1, reply: '已整改。', createdAt: '2026-11-23T00:00:00Z' });

describe('case events and surveys', () => {
  let dir = '';
  let db: Database;
  let engine: DialogEngine;
  const inbox: Reply[][] = [];
  let open = true;
  let t = Date.parse('2026-11-23T09:00:00Z');
  beforeAll(async () => {
    dir = tempDir();
    const config = loadConfig({ DATA_DIR: dir });
    const kb = await openKnowledgeBase(config);
    db = await openDatabase(config);
    engine = createDialogEngine(config, kb, db, (_c, _u, replies) => {
      if (!open) return 0;
      inbox.push(replies);
      return 1;
    });
    await linkCase(db, 'XA1', 'web', 'u1');
  });
  afterAll(async () => {
    await db.close();
    removeDir(dir);
  });

  it('asks once per round, reminds once after 48 hours, then records 未评价', async () => {
    const events = new CaseEvents(db, engine, () => new Date(t));
    const event = { eventId: 'e1', type: 'case.closed' as const, caseId: 'XA1', at: '', case: closed() };
    expect(await events.handle(event)).toBe('handled');
    expect(inbox).toHaveLength(1);
    expect(inbox[0]![0]).toMatchObject({ type: 'text', text: expect.stringContaining('已整改') });
    // A second close of the same round (another event id) asks nothing more.
    expect(await events.handle({ ...event, eventId: 'e2' })).toBe('handled');
    expect(inbox).toHaveLength(1);

    t += 47 * 3_600_000;
    expect(await events.remind()).toEqual({ reminded: 0, unrated: 0 });
    t += 2 * 3_600_000;
    expect(await events.remind()).toEqual({ reminded: 1, unrated: 0 });
    expect(inbox).toHaveLength(2);
    expect(await events.remind()).toEqual({ reminded: 0, unrated: 0 });
    t += 49 * 3_600_000;
    expect(await events.remind()).toEqual({ reminded: 0, unrated: 1 });
    expect(await getSurvey(db, 1)).toMatchObject({ status: 'unrated', rating: '未评价' });
  });

  it('keeps the survey for the next contact when the citizen has no open chat', async () => {
    open = false;
    const events = new CaseEvents(db, engine, () => new Date(t));
    await events.handle({ eventId: 'e3', type: 'case.closed', caseId: 'XA1', at: '', case: closed(2) });
    expect(inbox).toHaveLength(2);
    open = true;
    const r = await engine.handle({ channel: 'web', userId: 'u1', kind: 'text', text: '无犯罪记录证明要多少钱' });
    const texts = r.replies.map((x) => (x.type === 'text' ? x.text : x.type === 'menu' ? x.head : ''));
    expect(texts.join('\n')).toContain('无犯罪记录证明开具');
    expect(texts.join('\n')).toContain('请您对这次办理进行评价');
    expect(r.conversation.state).toBe('awaiting_rating');
    const rated = await engine.handle({ channel: 'web', userId: 'u1', kind: 'text', text: '非常满意' });
    expect(rated.replies[0]).toMatchObject({ text: expect.stringContaining('感谢您的评价') });
  });
});
