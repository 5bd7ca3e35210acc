/**
 * One small SQL interface over embedded PGlite (default, in DATA_DIR) and a real
 * PostgreSQL (DATABASE_URL). Same dialect, same migrations. PGlite cannot be shared
 * between processes, so its folder is guarded by a lock file.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import { migrate } from './migrate.ts';

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn inside one transaction on one connection. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class DatabaseInUseError extends Error {}

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
}

export async function openDatabase(o: DatabaseOptions): Promise<Database> {
  const db = o.databaseUrl ? openPostgres(o.databaseUrl) : await openPglite(o.dataDir);
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

function openPostgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    query: async (sql, params) => {
      const r = await pool.query(sql, params as unknown[]);
      return { rows: r.rows };
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn({
          query: async (sql, params) => ({ rows: (await client.query(sql, params as unknown[])).rows }),
          exec: async (sql) => {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, {
      lockfilePath: path.join(dataDir, 'pglite.lock'),
      // A crashed process's lock goes stale after 30 s; a live one refreshes it.
      stale: 30_000,
      update: 10_000,
      realpath: false,
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'ELOCKED') {
      throw new DatabaseInUseError(
        `数据目录 ${dataDir} 正被另一个小安进程使用 (DATA_DIR is in use by another process). ` +
          'Stop the other process, choose another DATA_DIR, or set DATABASE_URL to share a PostgreSQL server.',
      );
    }
    throw e;
  }
  let db: PGlite;
  try {
    db = new PGlite(path.join(dataDir, 'pglite'));
    await db.waitReady;
  } catch (e) {
    await release();
    throw e;
  }
  return {
    kind: 'pglite',
    query: async (sql, params) => {
      const r = await db.query(sql, params as unknown[]);
      return { rows: r.rows as never[] };
    },
    exec: async (sql) => {
      await db.exec(sql);
    },
    transaction: (fn) =>
      db.transaction(async (tx) =>
        fn({
          query: async (sql, params) => ({ rows: (await tx.query(sql, params as unknown[])).rows as never[] }),
          exec: async (sql) => {
            await tx.exec(sql);
          },
        }),
      ),
    close: async () => {
      await db.close();
      await release();
    },
  };
}
