/**
 * The review of a knowledge draft: the author cannot approve it; approval needs a gate run on
 * its current content; a draft that breaks validation is never published; one that lowers
 * top-1 beyond the threshold only with a reviewer's written reason; publishing makes a release.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../bot/store/database.ts';
import { createDraft, currentRelease, getDraft, readKbFiles, seedRelease, type KbFiles } from '../../knowledge-base/releases.ts';
import { approveDraft, gateDraft, publishDraft, submitDraft, updateDraft } from '../../knowledge-base/review.ts';
import { removeDir, testConfig } from '../helpers/kb.ts';

describe('reviewing a knowledge draft', () => {
  const config = testConfig();
  let db: Database;
  let seed: KbFiles;
  beforeAll(async () => {
    db = await openDatabase(config);
    seed = readKbFiles(config.guidesDir, config.lexiconDir);
    await seedRelease(db, seed);
  });
  afterAll(async () => {
    await db.close();
    removeDir(config.dataDir);
  });

  it('a fee edited by one editor is approved by another after the gate, then published', async () => {
    const files = { ...seed, 'guides/crj-01.md': seed['guides/crj-01.md']!.replace('普通护照每本120元', '普通护照每本100元') };
    const draft = await createDraft(db, files, 'editor1', '护照收费调整');
    await expect(submitDraft(db, draft.id, 'editor2')).rejects.toMatchObject({ status: 403 });
    await submitDraft(db, draft.id, 'editor1');
    await expect(updateDraft(db, draft.id, seed, 'editor1')).rejects.toMatchObject({ status: 409 });
    await expect(approveDraft(db, draft.id, 'editor2')).rejects.toThrow(/请先运行回归检查/);
    const gate = await gateDraft(config, db, draft.id);
    expect(gate).toMatchObject({ valid: true, blocked: false, problems: [] });
    expect(gate.top1.questions).toBeGreaterThan(500);
    expect(gate.top1.delta).toBe(0);
    expect(gate.changed).toEqual([]);
    await expect(approveDraft(db, draft.id, 'editor1')).rejects.toMatchObject({ status: 403 });
    expect((await approveDraft(db, draft.id, 'editor2')).status).toBe('approved');
    const release = await publishDraft(db, draft.id);
    expect(release).toMatchObject({ kind: 'release', author: 'editor1', approver: 'editor2', note: '护照收费调整' });
    expect((await currentRelease(db))!.id).toBe(release.id);
    expect((await getDraft(db, draft.id))!.status).toBe('published');
    await expect(publishDraft(db, draft.id)).rejects.toMatchObject({ status: 409 });
  }, 120_000);

  it('never publishes a draft that drops a required section, whatever the reviewer says', async () => {
    const text = seed['guides/crj-01.md']!;
    const broken = text.replace(/## 收费标准\n[\s\S]*?(?=\n## )/, '');
    expect(broken).not.toContain('## 收费标准');
    const draft = await createDraft(db, { ...seed, 'guides/crj-01.md': broken }, 'editor1');
    await submitDraft(db, draft.id, 'editor1');
    const gate = await gateDraft(config, db, draft.id);
    expect(gate.valid).toBe(false);
    expect(gate.blocked).toBe(true);
    expect(gate.problems.join('\n')).toMatch(/crj-01\.md.*收费标准/s);
    await expect(approveDraft(db, draft.id, 'editor2', { overrideReason: '急用' })).rejects.toThrow(/校验未通过/);
  }, 120_000);

  it('blocks a regression beyond one point unless the reviewer writes why, and records the reason', async () => {
    // The synonyms gone: many questions in everyday words no longer reach their item.
    const files = { ...seed, 'lexicon/synonyms.tsv': '' };
    const draft = await createDraft(db, files, 'editor1', '清理同义词');
    await submitDraft(db, draft.id, 'editor1');
    const gate = await gateDraft(config, db, draft.id);
    expect(gate.valid).toBe(true);
    expect(gate.top1.delta).toBeLessThan(-1);
    expect(gate.blocked).toBe(true);
    expect(gate.reason).toMatch(/首位命中率下降/);
    expect(gate.changed.length).toBeGreaterThan(5);
    expect(gate.changed[0]).toMatchObject({ q: expect.any(String), published: expect.any(String) });
    await expect(approveDraft(db, draft.id, 'editor2')).rejects.toThrow(/请填写理由/);
    await approveDraft(db, draft.id, 'editor2', { overrideReason: '同义词表将整体重建，临时接受下降' });
    const release = await publishDraft(db, draft.id);
    expect(release.note).toContain('同义词表将整体重建');
  }, 180_000);
});
