/**
 * The embedded database in its own thread (bot/store/pglite-worker.ts) behind the Database
 * interface: what callers relied on when PGlite ran in their thread still holds.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseGoneError, openDatabase, pgliteThread, type Database } from '../../../bot/store/database.ts';
import { isDatabaseUnavailable } from '../../../bot/store/database-errors.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';

/** A value of each kind of column the store reads, to compare with PGlite in this thread. */
const TYPES_SQL = `SELECT
  '2024-03-01 08:30:00.123+08'::timestamptz AS at,
  '2024-03-01'::date AS day,
  '{"a": [1, "二", null], "b": {"c": true}}'::jsonb AS doc,
  '[1, 2]'::json AS list,
  9007199254740993::int8 AS big,
  42::bigint AS small_big,
  12.50::numeric AS amount,
  '\\x00ff10'::bytea AS bytes,
  true AS yes,
  NULL::text AS nothing,
  3::int AS n,
  1.5::real AS r,
  ARRAY['x', 'y']::text[] AS tags,
  '身份证'::text AS text`;

describe('PGlite in a worker thread', () => {
  let dir = '';
  let db: Database;
  beforeAll(async () => {
    dir = tempDir('xiaoan-pglite-');
    db = await openDatabase({ dataDir: dir });
    await db.exec('CREATE TABLE w_items (k text PRIMARY KEY, tag text, at timestamptz DEFAULT now(), doc jsonb)');
  });
  afterAll(async () => {
    await db?.close();
    removeDir(dir);
  });
  afterEach(async () => {
    await db.query('DELETE FROM w_items');
  });

  it('answers queries and exec, with parameters', async () => {
    await db.exec(`INSERT INTO w_items (k, tag) VALUES ('a', 'x'); INSERT INTO w_items (k, tag) VALUES ('b', 'y')`);
    const { rows } = await db.query<{ k: string }>('SELECT k FROM w_items WHERE tag = $1', ['y']);
    expect(rows).toEqual([{ k: 'b' }]);
    expect((await db.query('UPDATE w_items SET tag = $1', ['z'])).rows).toEqual([]);
  });

  it('gives rows exactly as PGlite in this thread does: Date, objects, bigint, numeric text, bytes, null', async () => {
    const here = new PGlite();
    try {
      const expected = (await here.query(TYPES_SQL)).rows[0] as Record<string, unknown>;
      const [got] = (await db.query<Record<string, unknown>>(TYPES_SQL)).rows;
      expect(got).toEqual(expected);
      for (const [k, v] of Object.entries(expected)) expect([k, got![k]?.constructor]).toEqual([k, v?.constructor]);
      expect(got!.at).toBeInstanceOf(Date);
      expect((got!.at as Date).toISOString()).toBe('2024-03-01T00:30:00.123Z');
      expect(got!.doc).toEqual({ a: [1, '二', null], b: { c: true } });
      expect(got!.big).toBe(9007199254740993n);
      expect(got!.bytes).toEqual(new Uint8Array([0, 255, 16]));
      expect(got!.nothing).toBeNull();
    } finally {
      await here.close();
    }
  });

  it('passes parameters of each kind (Date, object for jsonb, bytes, bigint, null) as PGlite in this thread does', async () => {
    const at = new Date('2024-05-06T07:08:09.010Z');
    const sql = 'SELECT $1::timestamptz AS at, $2::jsonb AS doc, $3::bytea AS b, $4::int8 AS big, $5::int8 AS huge, $6::text AS z';
    const params = [at, { x: [1, 2] }, new Uint8Array([7, 8]), 12345678901234n, 2n ** 62n, null];
    const here = new PGlite();
    try {
      const { rows } = await db.query(sql, params);
      expect(rows).toEqual((await here.query(sql, params)).rows);
      // PGlite gives int8 as a number while it is exact, as a bigint beyond.
      expect(rows[0]).toEqual({ at, doc: { x: [1, 2] }, b: new Uint8Array([7, 8]), big: 12345678901234, huge: 2n ** 62n, z: null });
    } finally {
      await here.close();
    }
  });

  it('commits a transaction and returns what its function returned', async () => {
    const out = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO w_items (k) VALUES ('t1')");
      await tx.exec("INSERT INTO w_items (k) VALUES ('t2')");
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM w_items')).rows[0]!.n;
    });
    expect(out).toBe(2);
    expect((await db.query('SELECT k FROM w_items ORDER BY k')).rows).toEqual([{ k: 't1' }, { k: 't2' }]);
  });

  it('rolls back when the function throws, and rethrows its error', async () => {
    const boom = new Error('changed my mind');
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO w_items (k) VALUES ('gone')");
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect((await db.query('SELECT k FROM w_items')).rows).toEqual([]);
    // The connection is usable afterwards (no transaction left open on it).
    await db.query("INSERT INTO w_items (k) VALUES ('kept')");
    expect((await db.query('SELECT k FROM w_items')).rows).toEqual([{ k: 'kept' }]);
  });

  it('keeps concurrent transactions and plain statements out of an open transaction', async () => {
    const order: string[] = [];
    let aInserted!: () => void;
    const insertedByA = new Promise<void>((resolve) => (aInserted = resolve));
    let othersAsked!: () => void;
    const asked = new Promise<void>((resolve) => (othersAsked = resolve));

    const a = db.transaction(async (tx) => {
      await tx.query("INSERT INTO w_items (k, tag) VALUES ('a', 'A')");
      aInserted();
      await asked;
      // Statements asked after the others: interleaved, theirs would have run by now.
      for (let i = 0; i < 20; i++) await tx.query('SELECT 1');
      const n = (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM w_items')).rows[0]!.n;
      order.push(`A sees ${n}`);
      return n;
    });
    await insertedByA;
    const b = db.transaction(async (tx) => {
      await tx.query("INSERT INTO w_items (k, tag) VALUES ('b', 'B')");
      const n = (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM w_items WHERE tag IN ('A', 'B')")).rows[0]!.n;
      order.push(`B sees ${n}`);
      return n;
    });
    const c = db.query("INSERT INTO w_items (k, tag) VALUES ('c', 'C')").then(() => order.push('C inserted'));
    othersAsked();
    expect(await a).toBe(1);
    expect(await b).toBe(2);
    await c;
    expect(order[0]).toBe('A sees 1');
    expect(order.slice(1).sort()).toEqual(['B sees 2', 'C inserted']);
  });

  it('brings PostgreSQL errors back with their code, detail and constraint, outside and inside a transaction', async () => {
    await db.query("INSERT INTO w_items (k) VALUES ('dup')");
    const outside = await db.query("INSERT INTO w_items (k) VALUES ('dup')").catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(Error);
    expect(outside).toMatchObject({
      code: '23505',
      constraint: 'w_items_pkey',
      table: 'w_items',
      detail: 'Key (k)=(dup) already exists.',
      message: expect.stringMatching(/duplicate key value violates unique constraint/),
    });
    // The stack names who asked (the error is rebuilt in the caller's async chain).
    expect((outside as Error).stack).toMatch(/pglite-worker\.test\.ts/);
    expect(isDatabaseUnavailable(outside)).toBe(false);

    const inside = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO w_items (k) VALUES ('new')");
        await tx.query("INSERT INTO w_items (k) VALUES ('dup')");
      })
      .catch((e: unknown) => e);
    expect(inside).toMatchObject({ code: '23505', constraint: 'w_items_pkey' });
    expect((await db.query('SELECT k FROM w_items ORDER BY k')).rows).toEqual([{ k: 'dup' }]);

    await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    await expect(db.query('SELECT $1::int', ['not a number'])).rejects.toMatchObject({ code: '22P02' });
  });

  it('fails a transaction whose failed statement the function swallowed, as PGlite does', async () => {
    await db.query("INSERT INTO w_items (k) VALUES ('dup')");
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO w_items (k) VALUES ('dup')").catch(() => {});
      }),
    ).rejects.toThrow();
    expect((await db.query('SELECT count(*)::int AS n FROM w_items')).rows).toEqual([{ n: 1 }]);
  });

  it('runs a statement prepared once with new parameters each time (past the switch to a generic plan)', async () => {
    for (let i = 0; i < 12; i++) await db.query('INSERT INTO w_items (k, tag) VALUES ($1, $2)', [`p${i}`, i % 2 ? 'odd' : 'even']);
    for (let i = 0; i < 12; i++) {
      const tag = i % 2 ? 'odd' : 'even';
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM w_items WHERE tag = $1 AND k <> $2', [tag, `p${i}`]);
      expect(rows).toEqual([{ n: 5 }]);
    }
  });

  it('prepares again a statement whose table changed its columns, with exec or with a query', async () => {
    await db.query("INSERT INTO w_items (k, tag) VALUES ('s', 'x')");
    await db.exec('CREATE TABLE w_shape (a int)');
    await db.query('INSERT INTO w_shape VALUES (1)');
    const all = () => db.query('SELECT * FROM w_shape');
    expect((await all()).rows).toEqual([{ a: 1 }]);
    await db.exec("ALTER TABLE w_shape ADD COLUMN b text DEFAULT 'b'");
    expect((await all()).rows).toEqual([{ a: 1, b: 'b' }]);
    await db.query('ALTER TABLE w_shape ADD COLUMN c int DEFAULT 3');
    expect((await all()).rows).toEqual([{ a: 1, b: 'b', c: 3 }]);
    await db.exec('DROP TABLE w_shape');
  });

  it('keeps working past the number of prepared statements it keeps', async () => {
    for (let i = 0; i < 520; i++) expect((await db.query(`SELECT ${i}::int AS n`)).rows).toEqual([{ n: i }]);
    expect((await db.query('SELECT 0::int AS n')).rows).toEqual([{ n: 0 }]);
    expect((await db.query('SELECT 519::int AS n')).rows).toEqual([{ n: 519 }]);
  });

  it('reports a statement that does not parse, or has the wrong number of parameters, and goes on', async () => {
    await expect(db.query('SELEC 1')).rejects.toMatchObject({ code: '42601', query: 'SELEC 1' });
    await expect(db.query('SELECT $1::int AS n, $2::int AS m', [1])).rejects.toMatchObject({ code: '08P01' });
    expect((await db.query('SELECT $1::int AS n, $2::int AS m', [1, 2])).rows).toEqual([{ n: 1, m: 2 }]);
  });

  it('refuses a parameter that cannot be sent to the thread, and goes on', async () => {
    await expect(db.query('SELECT $1::text', [() => 1])).rejects.toThrow(/could not be cloned/);
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(db.connections!()).toEqual({ total: 1, idle: 1, waiting: 0 });
  });

  it('counts the requests it is busy with for /metrics', async () => {
    const all = Promise.all([db.query('SELECT 1'), db.query('SELECT 2'), db.query('SELECT 3')]);
    expect(db.connections!()).toEqual({ total: 1, idle: 0, waiting: 2 });
    await all;
    expect(db.connections!()).toEqual({ total: 1, idle: 1, waiting: 0 });
  });
});

describe('PGlite worker lifetime', () => {
  let dir = '';
  const opened: Database[] = [];
  const open = async () => {
    const db = await openDatabase({ dataDir: dir });
    opened.push(db);
    return db;
  };
  beforeAll(() => {
    dir = tempDir('xiaoan-pglite-');
  });
  afterAll(async () => {
    for (const db of opened) await db.close();
    removeDir(dir);
  });

  it('keeps the data across close and reopen, and refuses queries once closed', async () => {
    const db = await open();
    await db.exec('CREATE TABLE kept (n int)');
    await db.transaction(async (tx) => void (await tx.query('INSERT INTO kept VALUES (1), (2)')));
    await db.query('INSERT INTO kept VALUES (3)');
    const last = db.query<{ n: number }>('SELECT sum(n)::int AS n FROM kept');
    await db.close();
    // Asked before close: answered. Asked after: refused, clearly, as unavailable (503).
    expect((await last).rows).toEqual([{ n: 6 }]);
    const refused = await db.query('SELECT 1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DatabaseGoneError);
    expect(refused).toMatchObject({ code: '57P01', message: expect.stringMatching(/closed/) });
    expect(isDatabaseUnavailable(refused)).toBe(true);
    await expect(db.transaction(async () => 1)).rejects.toBeInstanceOf(DatabaseGoneError);
    await db.close(); // a second close is harmless

    const again = await open();
    expect((await again.query('SELECT n FROM kept ORDER BY n')).rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await again.close();
  });

  it('rolls back a transaction still open at close', async () => {
    const db = await open();
    await db.exec('CREATE TABLE IF NOT EXISTS late (n int)');
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction(async (t) => {
      await t.query('INSERT INTO late VALUES (1)');
      inside();
      await held;
      await t.query('INSERT INTO late VALUES (2)');
    });
    await entered;
    await db.close();
    release();
    await expect(tx).rejects.toBeInstanceOf(DatabaseGoneError);
    const again = await open();
    expect((await again.query('SELECT count(*)::int AS n FROM late')).rows).toEqual([{ n: 0 }]);

    // Closed right after the function returned, before its COMMIT was asked: not reported as done.
    const late = again.transaction(async (t) => {
      await t.query('INSERT INTO late VALUES (3)');
      queueMicrotask(() => void again.close());
      return 'committed?';
    });
    await expect(late).rejects.toBeInstanceOf(DatabaseGoneError);
    await again.close(); // the close begun above
    const third = await open();
    expect((await third.query('SELECT count(*)::int AS n FROM late')).rows).toEqual([{ n: 0 }]);
    await third.close();
  });

  it('has written a statement it answered: a process killed with kill -9 right after loses none of them', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers/write-until-killed.ts', import.meta.url)), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let answered = 0;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const lines = out.split('\n').filter(Boolean);
        answered = Number(lines.at(-1));
        if (lines.length >= 30) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const db = await open(); // the dead holder's lock is taken over
    const { rows } = await db.query<{ n: number; top: number }>('SELECT count(*)::int AS n, max(n) AS top FROM answered');
    expect(rows[0]!.n).toBe(rows[0]!.top);
    expect(rows[0]!.top).toBeGreaterThanOrEqual(answered);
    await db.close();
  }, 60_000);

  it('rejects what is pending when the thread dies, refuses what follows, and still closes and frees the folder', async () => {
    const db = await open();
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const tx = db.transaction(async (t) => {
      await t.query('SELECT 1');
      inside();
      await new Promise(() => {}); // never ends by itself
    });
    await entered;
    const waiting = db.query('SELECT 2'); // waits behind the open transaction
    await pgliteThread(db)!.terminate();
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseGoneError);
    expect(err).toMatchObject({ code: '57P02', message: expect.stringMatching(/embedded database thread stopped/) });
    expect(isDatabaseUnavailable(err)).toBe(true);
    await expect(db.query('SELECT 3')).rejects.toMatchObject({ code: '57P02' });
    void tx.catch(() => {});
    await db.close();
    // The lock is released: the folder opens again, with its data.
    const again = await open();
    expect((await again.query('SELECT count(*)::int AS n FROM kept')).rows).toEqual([{ n: 3 }]);
    await again.close();
  });
});
