/**
 * One citizen's messages are handled one at a time and in order. Inside a process the
 * engine's KeyedQueue does that; across replicas each turn also holds a PostgreSQL advisory
 * lock on its conversation key. The locks live on connections of their own (a small pool
 * beside the queries' pool): a turn holds its lock connection while it runs queries on the
 * other pool, so the two can never wait for each other. A process that dies frees its locks
 * with its connections.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Queryable } from '../store/database.ts';

/** A 64-bit advisory lock key for a name (hashed here: names may hold bytes PostgreSQL text refuses, like NUL). */
export function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

export interface SerialLocks {
  /**
   * Runs fn while no other process runs anything under the same key. fn gets the connection
   * that holds the lock (null in-process): the turn's own reads and writes may go on it rather
   * than wait for a pooled one.
   */
  hold<T>(key: string, fn: (held: Queryable | null) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** One process on its data (embedded PGlite): the in-process queue is enough. */
export const inProcessOnly: SerialLocks = {
  hold: (_key, fn) => fn(null),
  close: async () => {},
};

/** `scope` keeps one deployment's keys apart from another's on the same server (the schema). */
export function postgresLocks(url: string, scope: string, o: { max: number; connectMs: number; statementMs: number }): SerialLocks {
  const pool = new pg.Pool({
    connectionString: url,
    max: o.max,
    // Waiting for a free lock connection is waiting in line, like waiting for the lock itself.
    connectionTimeoutMillis: o.connectMs + o.statementMs,
    // A turn that waited as long as a statement may run, for another replica's turn of the same
    // citizen or for a server that does not answer, gives up (503, the citizen tries again).
    statement_timeout: o.statementMs,
    query_timeout: o.statementMs + 1_000,
  });
  pool.on('error', () => {});
  return {
    async hold(name, fn) {
      const key = lockKey(`${scope}:${name}`);
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
      } catch (e) {
        client.release(true);
        throw e;
      }
      const held: Queryable = {
        query: async (sql, params) => ({ rows: (await client.query(sql, params as unknown[])).rows }),
        exec: async (sql) => {
          await client.query(sql);
        },
      };
      try {
        return await fn(held);
      } finally {
        // Not unlocked, the connection is dropped: the server frees the lock with it.
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => (broken = true));
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
