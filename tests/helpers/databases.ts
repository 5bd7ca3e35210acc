/**
 * The stores every storage test runs against: PGlite always, and the real PostgreSQL
 * service when TEST_DATABASE_URL is set (.ci/run sets it). Each PostgreSQL run gets its
 * own schema, dropped afterwards, so runs never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../../bot/store/database.ts';
import { removeDir, tempDir } from './kb.ts';

export interface TestStore {
  name: string;
  open(): Promise<{ db: Database; options: { dataDir: string; databaseUrl?: string }; cleanup: () => Promise<void> }>;
}

export const testStores: TestStore[] = [
  {
    name: 'PGlite',
    async open() {
      const dataDir = tempDir('xiaoan-pglite-');
      const db = await openDatabase({ dataDir });
      return {
        db,
        options: { dataDir },
        cleanup: async () => {
          await db.close().catch(() => {});
          removeDir(dataDir);
        },
      };
    },
  },
];

const url = process.env.TEST_DATABASE_URL;
if (url) {
  testStores.push({
    name: 'PostgreSQL',
    async open() {
      const { databaseUrl, drop } = await freshSchema(url, 'xiaoan_test');
      const dataDir = tempDir();
      const db = await openDatabase({ dataDir, databaseUrl });
      return {
        db,
        options: { dataDir, databaseUrl },
        cleanup: async () => {
          await db.close().catch(() => {});
          removeDir(dataDir);
          await drop();
        },
      };
    },
  });
}

/** A schema of its own on the PostgreSQL at `url`: the URL that works in it, and its removal. */
export async function freshSchema(url: string, prefix: string): Promise<{ databaseUrl: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    databaseUrl: u.toString(),
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** An embedded database on a fresh folder for the tests of one file. */
export function useTempPglite(): { db: Database } {
  const t = {} as { db: Database; dir: string };
  beforeAll(async () => {
    t.dir = tempDir('xiaoan-pglite-');
    t.db = await openDatabase({ dataDir: t.dir });
  });
  afterAll(async () => {
    await t.db?.close();
    removeDir(t.dir);
  });
  return t;
}
