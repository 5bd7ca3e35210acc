import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Asker } from '../../../bot/ask.ts';
import { loadConfig } from '../../../bot/config.ts';
import { DatabaseInUseError, openDatabase, type Database } from '../../../bot/store/database.ts';
import { currentKbVersion, listKbVersions, publishKbVersion } from '../../../bot/store/kb-versions.ts';
import { listMigrations, migrate } from '../../../bot/store/migrate.ts';
import { logQuestion, recentQuestions } from '../../../bot/store/question-log.ts';
import { openKnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';
import { testStores } from '../../helpers/databases.ts';
import { copyGuides, removeDir, tempDir } from '../../helpers/kb.ts';

describe.each(testStores)('storage on $name', (store) => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(async () => cleanup());

  const open = async () => {
    const s = await store.open();
    cleanup = s.cleanup;
    return s;
  };

  it('applies each migration once, even when asked again', async () => {
    const { db } = await open();
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => Number(r.version))).toEqual(listMigrations().map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
  });

  it('builds the index, publishes it, and reloads the same published version', async () => {
    const { db, options } = await open();
    const guidesDir = copyGuides(['sfz-04', 'sfz-06', 'crj-01']);
    try {
      const config = { ...loadConfig({}), dataDir: options.dataDir, guidesDir };
      const kb = await openKnowledgeBase(config);
      expect(kb.built).toBe(true);
      const first = await publishKbVersion(db, kb.index.meta, 'editor-a');
      expect(first.changed).toBe(true);
      expect(first.version).toMatchObject({ checksum: kb.index.meta.checksum, itemCount: 3, publishedBy: 'editor-a', isCurrent: true });

      // Reload: the saved index is reused and is already the current version.
      const again = await openKnowledgeBase(config);
      expect(again.built).toBe(false);
      expect((await publishKbVersion(db, again.index.meta, 'editor-b')).changed).toBe(false);
      expect((await currentKbVersion(db))?.publishedBy).toBe('editor-a');

      // A new guide set replaces it; history is kept and only one version is current.
      const other = await openKnowledgeBase({ ...config, guidesDir: copyGuides(['sfz-04']) });
      await publishKbVersion(db, other.index.meta, 'editor-b');
      const versions = await listKbVersions(db);
      expect(versions).toHaveLength(2);
      expect(versions.filter((v) => v.isCurrent).map((v) => v.publishedBy)).toEqual(['editor-b']);
      expect(versions[0]!.publishedAt).toBeInstanceOf(Date);
    } finally {
      removeDir(guidesDir);
    }
  });

  it('logs questions with ID and phone numbers masked', async () => {
    const { db, options } = await open();
    const guidesDir = copyGuides(['sfz-04', 'sfz-06']);
    try {
      const kb = await openKnowledgeBase({ ...loadConfig({}), dataDir: options.dataDir, guidesDir });
      const r = await new Asker(kb).ask('身份证11010519491231002X丢了，电话13812345678');
      await logQuestion(db, 'test', r, kb.index.meta.checksum);
      const [row] = await recentQuestions(db, 1);
      expect(row).toMatchObject({ channel: 'test', intent: r.intent, itemId: r.item?.id ?? null });
      expect(row!.text).toBe('身份证110105********002X丢了，电话138****5678');
      expect(row!.normalized).not.toMatch(/13812345678|19491231/);
      expect(row!.candidates[0]).toEqual({ id: r.candidates[0]!.id, score: r.candidates[0]!.score });
      expect(row!.latencyMs).toBeGreaterThan(0);
    } finally {
      removeDir(guidesDir);
    }
  });
});

describe('PGlite data directory guard', () => {
  let db: Database | null = null;
  let dir = '';
  afterEach(async () => {
    await db?.close();
    removeDir(dir);
  });

  it('refuses a second opener of the same DATA_DIR with a clear message, and allows it after close', async () => {
    dir = tempDir();
    db = await openDatabase({ dataDir: dir });
    await expect(openDatabase({ dataDir: dir })).rejects.toBeInstanceOf(DatabaseInUseError);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/is in use by another process/);
    await db.close();
    db = await openDatabase({ dataDir: dir });
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]!.n).toBeGreaterThan(0);
  });

  it('takes over at once the folder of a process killed with kill -9, and still refuses a live one', async () => {
    dir = tempDir();
    const { spawn } = await import('node:child_process');
    const hold = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../helpers/hold-database.ts', import.meta.url)), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      return new Promise<typeof child>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve(child));
        child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
    };
    const live = await hold();
    await expect(openDatabase({ dataDir: dir })).rejects.toBeInstanceOf(DatabaseInUseError);
    const gone = new Promise((resolve) => live.once('exit', resolve));
    live.kill('SIGKILL');
    await gone;
    // At once, not after the 30 s a stale lock takes; and the data is there.
    db = await openDatabase({ dataDir: dir });
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]!.n).toBeGreaterThan(0);
    await db.close();
    db = null;
    // A lock of another machine's process is left to go stale (30 s), then taken.
    const { mkdirSync, utimesSync, writeFileSync, existsSync } = await import('node:fs');
    const lock = `${dir}/pglite.lock`;
    mkdirSync(lock);
    writeFileSync(`${lock}/owner.json`, JSON.stringify({ pid: 1, host: 'another-host' }));
    await expect(openDatabase({ dataDir: dir })).rejects.toBeInstanceOf(DatabaseInUseError);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    db = await openDatabase({ dataDir: dir });
    await db.close();
    db = null;
    expect(existsSync(lock)).toBe(false);
  }, 60_000);
});
