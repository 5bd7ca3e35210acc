/**
 * One small SQL interface over embedded PGlite (default, in DATA_DIR) and a real
 * PostgreSQL (DATABASE_URL). Same dialect, same migrations. PGlite cannot be shared
 * between processes, so its folder is guarded by a lock file.
 *
 * A real PostgreSQL can be slow, stopped or cut off: every statement and every connection
 * attempt has a time limit (DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_CONNECT_TIMEOUT_MS),
 * so a stalled server makes requests fail fast (503, see database-errors.ts) instead of
 * hanging. PGlite runs inside this process, in a thread of its own (pglite-worker.ts) so
 * its WASM and file writes do not hold the event loop that serves HTTP: there is no
 * connection to lose or to wait for, and PGlite cannot cancel a running statement, so it
 * gets no timeouts; a thread that stops fails what waits on it at once (DatabaseGoneError).
 */
import fs, { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import { DATABASE_TIMEOUT_DEFAULTS } from '../config.ts';
import { isDatabaseUnavailable } from './database-errors.ts';
import { migrate } from './migrate.ts';
import type { Reply, Request, SerializedError, WorkerData } from './pglite-worker.ts';

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
  /** The pool's use; PGlite is one connection, busy while its thread runs or queues requests. Absent on test doubles. */
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
  let db: Database;
  try {
    db = await startPgliteWorker(path.join(dataDir, 'pglite'));
  } catch (e) {
    await release();
    throw e;
  }
  const close = db.close;
  let closed: Promise<void> | undefined;
  const locked: Database = {
    ...db,
    // The worker has closed PGlite (its files are written) before the folder is given up.
    close: () => (closed ??= close().finally(release)),
  };
  threads.set(locked, threads.get(db)!);
  return locked;
}

/**
 * Why a request to the embedded database cannot be answered: it was closed (57P01,
 * admin_shutdown) or its thread stopped (57P02, crash_shutdown). The SQLSTATEs let
 * isDatabaseUnavailable answer such a request 503 like a PostgreSQL server going away.
 */
export class DatabaseGoneError extends Error {
  constructor(
    message: string,
    readonly code: '57P01' | '57P02',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DatabaseGoneError';
  }
}

/** The error the worker caught, with PostgreSQL's fields (code, detail, constraint…) as the caller knew them. */
function rebuildError(s: SerializedError): Error {
  const e = new Error(s.message);
  Object.assign(e, s.fields);
  e.name = s.name;
  return e;
}

/**
 * Starts the thread that runs PGlite. From the sources (tsx, vitest) a worker thread inherits
 * no loader, so it registers tsx before it imports the .ts file; compiled (dist/), the .js
 * beside this module runs as it is.
 */
function spawnWorker(data: WorkerData): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./pglite-worker.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true, workerData: data });
  }
  return new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: data });
}

/** Creates the database in PGlite's new folder, in a thread that ends when it is done. */
async function createPglite(dir: string): Promise<void> {
  const worker = spawnWorker({ dir, createOnly: true });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: Reply) => (m.t === 'ready' ? resolve() : m.t === 'failed' ? reject(rebuildError(m.error)) : undefined));
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`the embedded database could not be created (exit code ${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** A request that is answered, before its id is given. */
type Asked = Exclude<Request, { t: 'end' }> extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/**
 * PGlite in its own thread (pglite-worker.ts) behind the same Database interface: each
 * statement is a message, answered when PGlite has run it (a write is in the folder's files
 * by then, as before). Transactions run on the worker's one connection with other statements
 * waiting outside them; PostgreSQL's errors come back with their fields.
 */
async function startPgliteWorker(dir: string): Promise<Database> {
  // A new folder is created by a thread of its own that then ends: creating the database
  // (initdb) leaves ~400 MB behind in the thread that did it.
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await createPglite(dir);
  const worker = spawnWorker({ dir });
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let nextTx = 0;
  /** Set once no request can be answered any more: closed, or the thread stopped. */
  let gone: DatabaseGoneError | null = null;
  let started!: { resolve: () => void; reject: (e: Error) => void };
  const ready = new Promise<void>((resolve, reject) => (started = { resolve, reject }));

  const stopped = (why: string, cause?: unknown) => {
    gone ??= new DatabaseGoneError(`嵌入式数据库线程已退出 (the embedded database thread stopped: ${why})`, '57P02', { cause });
    started.reject(gone);
    for (const p of pending.values()) p.reject(gone);
    pending.clear();
  };
  worker.on('message', (m: Reply) => {
    if (m.t === 'ready') return started.resolve();
    if (m.t === 'failed') return started.reject(rebuildError(m.error));
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    // An idle worker does not keep the process alive (PGlite in this thread did not either).
    if (!pending.size) worker.unref();
    p.resolve(m);
  });
  worker.on('error', (e) => stopped(e.message, e));
  worker.on('exit', (code) => stopped(`exit code ${code}`));

  /** Sends a request; the promise settles with the worker's answer, or rejects once the worker is gone. */
  const send = (msg: Asked): Promise<Reply> => {
    if (gone) return Promise.reject(gone);
    const id = ++nextId;
    return new Promise<Reply>((resolve, reject) => {
      // A parameter structured clone cannot copy (a function) is refused here, as PGlite would refuse it.
      worker.postMessage({ ...msg, id });
      if (!pending.size) worker.ref();
      pending.set(id, { resolve, reject });
    });
  };
  // The error is made here, in the caller's async chain, so its stack shows who asked.
  const rows = async (msg: Asked): Promise<{ rows: never[] }> => {
    const r = await send(msg);
    if (r.t === 'error') throw rebuildError(r.error);
    return { rows: (r.t === 'done' ? (r.rows ?? []) : []) as never[] };
  };
  const done = async (msg: Asked): Promise<void> => {
    const r = await send(msg);
    if (r.t === 'error') throw rebuildError(r.error);
  };

  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  worker.unref();

  const db: Database = {
    kind: 'pglite',
    // One connection; busy while anything is asked of it, the rest waiting behind.
    connections: () => ({ total: 1, idle: pending.size ? 0 : 1, waiting: Math.max(0, pending.size - 1) }),
    query: (sql, params) => rows({ t: 'query', sql, params }),
    exec: (sql) => done({ t: 'exec', sql }),
    transaction: async (fn) => {
      const tx = ++nextTx;
      // Answered when the transaction has ended; its statements queue in the worker meanwhile.
      const ended = send({ t: 'begin', tx });
      ended.catch(() => {});
      let out;
      try {
        out = await fn({
          query: (sql, params) => rows({ t: 'query', sql, params, tx }),
          exec: (sql) => done({ t: 'exec', sql, tx }),
        });
      } catch (e) {
        if (!gone) worker.postMessage({ t: 'end', tx, commit: false } satisfies Request);
        await ended.catch(() => {});
        throw e;
      }
      // Closed meanwhile: the worker rolls the transaction back, so it did not happen.
      if (gone) throw gone;
      worker.postMessage({ t: 'end', tx, commit: true } satisfies Request);
      const r = await ended;
      if (r.t === 'error') throw rebuildError(r.error);
      return out;
    },
    close: async () => {
      if (gone) return;
      const asked = send({ t: 'close' });
      // Asked after this: refused here; asked before: answered by the worker before it closes.
      gone = new DatabaseGoneError('The embedded database is closed', '57P01');
      try {
        const r = await asked;
        if (r.t === 'error') throw rebuildError(r.error);
      } finally {
        await worker.terminate();
      }
    },
  };
  threads.set(db, worker);
  return db;
}

const threads = new WeakMap<Database, Worker>();
/** The thread behind an embedded database (tests stop it as a crash would). */
export function pgliteThread(db: Database): Worker | undefined {
  return threads.get(db);
}
