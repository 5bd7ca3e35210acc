/**
 * One small SQL interface over embedded PGlite (default, in DATA_DIR) and a real
 * PostgreSQL (DATABASE_URL). Same dialect, same migrations. PGlite cannot be shared
 * between processes, so its folder is guarded by a lock file.
 *
 * A real PostgreSQL can be slow, stopped or cut off: every statement and every connection
 * attempt has a time limit (DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_CONNECT_TIMEOUT_MS),
 * so a stalled server makes requests fail fast (503, see database-errors.ts) instead of
 * hanging. PGlite runs inside this process: there is no connection to lose or to wait
 * for, and a statement that runs long holds the event loop itself, so no timer could cut
 * it short; it gets no timeouts.
 */
import fs, { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import { DATABASE_TIMEOUT_DEFAULTS } from '../config.ts';
import { isDatabaseUnavailable } from './database-errors.ts';
import { migrate } from './migrate.ts';

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** How the connections are used now (for /metrics). */
export interface ConnectionUse {
  total: number;
  idle: number;
  /** Requests waiting for a free connection. */
  waiting: number;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn inside one transaction on one connection. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** The pool's use; PGlite, in this process, is one connection always free. Absent on test doubles. */
  connections?(): ConnectionUse;
}

export class DatabaseInUseError extends Error {}

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL only; DATABASE_TIMEOUT_DEFAULTS when unset. */
  databaseStatementTimeoutMs?: number;
  databaseConnectTimeoutMs?: number;
}

export async function openDatabase(o: DatabaseOptions): Promise<Database> {
  if (!o.databaseUrl) {
    const db = await openPglite(o.dataDir);
    try {
      await migrate(db);
    } catch (e) {
      await db.close();
      throw e;
    }
    return db;
  }
  const connectMs = o.databaseConnectTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.connectMs;
  const statementMs = o.databaseStatementTimeoutMs ?? DATABASE_TIMEOUT_DEFAULTS.statementMs;
  // Migrations may rightly take longer than a request's statement (an index on a large
  // table, another process holding the migration lock): they run on their own connection
  // without the statement limit; an unreachable server still fails start-up fast.
  const migrator = openPostgres(o.databaseUrl, { connectMs, max: 1 });
  try {
    await migrate(migrator);
  } finally {
    await migrator.close();
  }
  return openPostgres(o.databaseUrl, { connectMs, statementMs, max: 10 });
}

interface PoolLimits {
  max: number;
  connectMs: number;
  /** Unset: statements may run as long as they need (migrations). */
  statementMs?: number;
}

/** Past the server's own statement_timeout, the client gives up too (a server that answers nothing). */
const CLIENT_GRACE_MS = 1_000;

function openPostgres(connectionString: string, limits: PoolLimits): Database {
  const pool = new pg.Pool({
    connectionString,
    max: limits.max,
    // Connecting, and waiting for a free connection when all are busy.
    connectionTimeoutMillis: limits.connectMs,
    ...(limits.statementMs
      ? {
          // The server cancels a statement running longer (SQLSTATE 57014)…
          statement_timeout: limits.statementMs,
          // …and the client stops waiting when the answer never comes (a stalled network);
          // the pool then drops that connection.
          query_timeout: limits.statementMs + CLIENT_GRACE_MS,
        }
      : {}),
  });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    connections: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    query: async (sql, params) => {
      const r = await pool.query(sql, params as unknown[]);
      return { rows: r.rows };
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      let broken = false;
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
        // A lost or stalled connection is not asked to roll back (the server does when it
        // notices): it is dropped from the pool instead of being handed to the next request.
        if (isDatabaseUnavailable(e)) broken = true;
        else await client.query('ROLLBACK').catch(() => (broken = true));
        throw e;
      } finally {
        client.release(broken);
      }
    },
    // Connections to a stalled server may never say goodbye: closing waits at most the connect timeout.
    close: () => {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limits.connectMs);
      });
      return Promise.race([pool.end(), waited]).finally(() => clearTimeout(timer));
    },
  };
}

/**
 * Whether the lock's holder is a process of this machine that no longer runs (killed, crashed):
 * its lock is taken over at once rather than after it goes stale. A holder on another machine
 * (a shared folder), or one that cannot be told, is left alone.
 */
function holderIsGone(lockDir: string): boolean {
  let owner: { pid?: unknown; host?: unknown };
  try {
    owner = JSON.parse(readFileSync(path.join(lockDir, LOCK_OWNER), 'utf8')) as typeof owner;
  } catch {
    return false;
  }
  if (owner.host !== os.hostname() || typeof owner.pid !== 'number' || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'ESRCH';
  }
}
/** Who holds the lock, written inside the lock folder once it is held. */
const LOCK_OWNER = 'owner.json';
/** The file system for the lock: removing the lock folder (released, stale, at exit) removes its owner file first. */
const lockFs = {
  ...fs,
  rmdir: (dir: fs.PathLike, cb: (err: NodeJS.ErrnoException | null) => void) => {
    rmSync(path.join(String(dir), LOCK_OWNER), { force: true });
    fs.rmdir(dir, cb);
  },
  rmdirSync: (dir: fs.PathLike) => {
    rmSync(path.join(String(dir), LOCK_OWNER), { force: true });
    fs.rmdirSync(dir);
  },
};

async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const lockDir = path.join(dataDir, 'pglite.lock');
  const lock = () =>
    lockfile.lock(dataDir, {
      lockfilePath: lockDir,
      // A lock whose holder's machine cannot be asked goes stale after 30 s; a live holder refreshes it.
      stale: 30_000,
      update: 10_000,
      realpath: false,
      fs: lockFs,
    });
  let release: () => Promise<void>;
  try {
    try {
      release = await lock();
    } catch (e) {
      if ((e as { code?: string }).code !== 'ELOCKED' || !holderIsGone(lockDir)) throw e;
      rmSync(lockDir, { recursive: true, force: true });
      release = await lock();
    }
    // The lock folder's time is how proper-lockfile knows the lock is still its own: kept as it was.
    const { atime, mtime } = statSync(lockDir);
    writeFileSync(path.join(lockDir, LOCK_OWNER), JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString() }));
    utimesSync(lockDir, atime, mtime);
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
    connections: () => ({ total: 1, idle: 1, waiting: 0 }),
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
