/**
 * Knowledge releases in the store: the shipped files seed the first release once; a release
 * never changes; the one in force is the latest whose effective time has come; files go out
 * (kb export --format md) and come back as a draft (kb import) — on PGlite and PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../bot/config.ts';
import { openDatabase } from '../../bot/store/database.ts';
import { checksumOf, createDraft, currentRelease, fileChanges, getDraft, getRelease, listReleases, readKbFiles, seedRelease } from '../../knowledge-base/releases.ts';
import { testStores } from '../helpers/databases.ts';
import { removeDir, tempDir, testConfig } from '../helpers/kb.ts';

const shipped = () => readKbFiles(path.join(PROJECT_ROOT, 'knowledge-base', 'guides'), path.join(PROJECT_ROOT, 'knowledge-base', 'lexicon'));

describe.each(testStores)('knowledge releases on $name', (store) => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(() => cleanup());

  it('seeds the first release once from the shipped files; releases are immutable; the latest in force wins', async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    const files = shipped();
    expect(Object.keys(files).filter((f) => f.startsWith('guides/')).length).toBeGreaterThan(50);
    expect(Object.keys(files)).toContain('lexicon/synonyms.tsv');
    expect(Object.keys(files)).not.toContain('guides/README.md');

    const first = await seedRelease(s.db, files);
    expect(first).toMatchObject({ created: true, release: { id: expect.any(Number), kind: 'seed', checksum: checksumOf(files), fileCount: Object.keys(files).length } });
    const again = await seedRelease(s.db, { 'guides/x.md': 'changed' });
    expect(again).toMatchObject({ created: false, release: { id: first.release.id } });
    expect((await getRelease(s.db, first.release.id, { files: true }))!.files).toEqual(files);

    await expect(s.db.query("UPDATE kb_releases SET note = 'x'")).rejects.toThrow(/immutable/);
    await expect(s.db.query('DELETE FROM kb_releases')).rejects.toThrow(/immutable/);

    // A release effective tomorrow is not in force until then.
    const tomorrow = new Date(Date.now() + 86_400_000);
    await s.db.query("INSERT INTO kb_releases (checksum, files, kind, author, approver, effective_at) VALUES ('c2', '{}'::jsonb, 'release', 'a', 'b', $1)", [tomorrow.toISOString()]);
    expect((await currentRelease(s.db))!.id).toBe(first.release.id);
    expect((await currentRelease(s.db, { at: new Date(tomorrow.getTime() + 1000) }))!.checksum).toBe('c2');
    expect((await listReleases(s.db)).map((r) => r.kind)).toEqual(['release', 'seed']);

    // A draft from files on top of the release in force, and what it changes.
    const edited: Record<string, string> = { ...files, 'guides/new-item.md': '---\nid: x\n---\n' };
    delete edited['lexicon/stopwords.txt'];
    const draft = await createDraft(s.db, edited, 'editor1', '新增一个事项');
    expect(draft).toMatchObject({ status: 'draft', author: 'editor1', baseRelease: first.release.id, note: '新增一个事项' });
    expect((await getDraft(s.db, draft.id))!.files).toEqual(edited);
    expect(fileChanges(files, edited)).toEqual({ added: ['guides/new-item.md'], changed: [], removed: ['lexicon/stopwords.txt'] });
  });
});

describe('xiaoan kb export --format md / kb import', () => {
  it('writes the release in force to files and reads edited files back as a draft', async () => {
    const run = promisify(execFile);
    const config = testConfig();
    const out = tempDir();
    const env = { ...process.env, DATA_DIR: config.dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent', USER: 'editor-li' };
    const cli = (args: string[]) => run(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js'), 'kb', ...args], { env, cwd: PROJECT_ROOT });
    try {
      const exported = await cli(['export', '--format', 'md', '--out', out]);
      expect(exported.stdout).toMatch(/release 1 \([0-9a-f]{12}, \d+ files\) written to/);
      expect(readKbFiles(path.join(out, 'guides'), path.join(out, 'lexicon'))).toEqual(shipped());

      // An editor changes a fee line in one guide and imports the folder.
      const guide = readdirGuide(out);
      writeFileSync(guide, readFileSync(guide, 'utf8').replace(/## 收费标准\n/, '## 收费标准\n\n（2027 年起调整，以窗口公示为准）\n'));
      const imported = await cli(['import', out, '--note', '收费说明更新']);
      expect(imported.stdout).toMatch(/draft 1 by editor-li on release 1: 0 added, 1 changed, 0 removed; valid\./);
      const db = await openDatabase(config);
      try {
        const draft = (await getDraft(db, 1))!;
        expect(draft.note).toBe('收费说明更新');
        expect(draft.files[`guides/${path.basename(guide)}`]).toContain('2027 年起调整');
      } finally {
        await db.close();
      }
      const bad = await cli(['export', '--format', 'md']).catch((e: { code: number; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 2 });
    } finally {
      removeDir(out);
      removeDir(config.dataDir);
    }
  }, 120_000);
});

/** The first guide file that has a 收费标准 section. */
function readdirGuide(dir: string): string {
  const files = readKbFiles(path.join(dir, 'guides'), path.join(dir, 'lexicon'));
  const name = Object.keys(files).find((f) => f.startsWith('guides/') && files[f]!.includes('## 收费标准\n'))!;
  return path.join(dir, name);
}
