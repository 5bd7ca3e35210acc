/**
 * The embedded database's thread (database.ts starts it): PGlite's WASM and its file writes
 * run here instead of on the event loop that serves HTTP. It answers database.ts's requests
 * by message, one connection as before: requests run one at a time in the order they came,
 * and an open transaction runs alone until the main thread ends it; statements asked
 * meanwhile wait behind it, as they waited on PGlite's own lock in the main thread.
 *
 * Each statement text is prepared once (a named statement) and then only bound and run, in
 * one call into PGlite: PGlite's own query() parses and plans the text every time, in six
 * calls. Rows are decoded by PGlite's own parsers, so they are what query() gave.
 *
 * The folder lock stays with the main thread (the process is the lock's holder); it is
 * released there after this thread has closed PGlite.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parse, PGlite, protocol, type Results, type Transaction } from '@electric-sql/pglite';

export interface WorkerData {
  /** PGlite's own folder (DATA_DIR/pglite). */
  dir: string;
  /** Only create the database in a new folder, then close it (the thread then ends). */
  createOnly?: boolean;
}

/** What the main thread asks. `tx` names the open transaction a statement belongs to. */
export type Request =
  | { t: 'query'; id: number; sql: string; params?: unknown[]; tx?: number }
  | { t: 'exec'; id: number; sql: string; tx?: number }
  /** Opens transaction `tx`; the answer to `id` comes when it has ended (committed, or rolled back). */
  | { t: 'begin'; id: number; tx: number }
  | { t: 'end'; tx: number; commit: boolean; closing?: true }
  | { t: 'close'; id: number };

/** An error's own fields (PostgreSQL's code, detail, constraint…), as structured clone keeps them. */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

export type Reply =
  | { t: 'ready' }
  | { t: 'failed'; error: SerializedError }
  | { t: 'done'; id: number; rows?: unknown[] }
  | { t: 'error'; id: number; error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), fields: {} };
  const fields: SerializedError['fields'] = {};
  for (const [k, v] of Object.entries(e)) {
    // PGlite adds the query and its params; a field structured clone cannot copy is left out.
    try {
      fields[k] = structuredClone(v);
    } catch {}
  }
  return { name: e.name, message: e.message, fields };
}

/** An abort inside PGlite's WASM leaves it unusable: the thread ends so every waiting request fails at once. */
const isAbort = (e: unknown) => e instanceof WebAssembly.RuntimeError || (e instanceof Error && /^Aborted\(/.test(e.message));

/** Prepared statements kept; past this the least recently used is closed (texts built with values in them). */
const MAX_PREPARED = 500;

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Runs statements as PGlite's query() does, with each text prepared once. The caller runs one
 * at a time (the worker's queue); PGlite's own locks are not taken, nothing else uses it meanwhile.
 */
export class PreparedStatements {
  private prepared = new Map<string, { name: string; types: number[] }>();
  private made = 0;
  constructor(private readonly db: PGlite) {}

  private async prepare(sql: string): Promise<{ name: string; types: number[] }> {
    const known = this.prepared.get(sql);
    if (known) {
      // Most recently used last: the first in the map is the one to close.
      this.prepared.delete(sql);
      this.prepared.set(sql, known);
      return known;
    }
    const { serialize } = protocol;
    const parts: Uint8Array[] = [];
    while (this.prepared.size >= MAX_PREPARED) {
      const [oldest, { name }] = this.prepared.entries().next().value!;
      this.prepared.delete(oldest);
      parts.push(serialize.close({ type: 'S', name }));
    }
    const name = `xiaoan_${++this.made}`;
    parts.push(serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync());
    const { messages } = await this.db.execProtocol(concat(parts));
    const st = { name, types: parse.parseDescribeStatementResults(messages) };
    this.prepared.set(sql, st);
    return st;
  }

  async query(sql: string, params: unknown[] = []): Promise<Results> {
    const { serialize } = protocol;
    for (let attempt = 0; ; attempt++) {
      try {
        const st = await this.prepare(sql);
        // As PGlite's query(): null stays null, a type's serializer if it has one, else the text.
        const values = params.map((v, i) => {
          if (v === null || v === undefined) return null;
          const s = this.db.serializers[st.types[i]!];
          return s ? s(v) : (v as { toString(): string }).toString();
        });
        const msg = concat([serialize.bind({ statement: st.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]);
        const { messages } = await this.db.execProtocol(msg);
        return parse.parseResults(messages, this.db.parsers)[0] ?? { rows: [], fields: [] };
      } catch (e) {
        // A table whose columns changed under a prepared `SELECT *`: prepared again, once, when
        // outside a transaction (inside, the transaction has failed already).
        const stale = (e as { code?: unknown }).code === '0A000' && /cached plan must not change result type/.test((e as Error).message);
        if (stale) this.prepared.delete(sql);
        if (stale && attempt === 0 && !this.db.isInTransaction()) continue;
        // The fields PGlite's query() adds to its errors.
        throw Object.assign(e as object, { query: sql, params, queryOptions: undefined });
      }
    }
  }

  /** After a schema change (migrations run exec), statements are prepared afresh. */
  async forgetAll(): Promise<void> {
    if (!this.prepared.size) return;
    const parts = [...this.prepared.values()].map(({ name }) => protocol.serialize.close({ type: 'S', name }));
    this.prepared.clear();
    await this.db.execProtocol(concat([...parts, protocol.serialize.sync()]), { throwOnError: false });
  }
}

/**
 * PostgreSQL's defaults are a server's: 128 MB of shared buffers alone, resident once touched.
 * 小安's tables are small and the OS caches their files; 16 MB keeps the process within its
 * memory budget (about 130 MB less) at no measurable cost per turn.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

async function openPglite(dir: string): Promise<PGlite> {
  const db = new PGlite(dir, { startParams: START_PARAMS });
  await db.waitReady;
  return db;
}

if (parentPort) {
  const port = parentPort;
  const send = (r: Reply) => port.postMessage(r);
  const refuse = (id: number, message: string) => send({ t: 'error', id, error: serializeError(new Error(message)) });
  const { dir, createOnly } = workerData as WorkerData;
  let db!: PGlite;
  let statements!: PreparedStatements;

  /** One request at a time, in order: a transaction is one job from BEGIN to its end. */
  const jobs: Array<() => Promise<void>> = [];
  let pumping = false;
  const enqueue = (job: () => Promise<void>) => {
    jobs.push(job);
    if (!pumping) void pump();
  };
  const pump = async () => {
    pumping = true;
    while (jobs.length) await jobs.shift()!();
    pumping = false;
  };

  const answer = async (id: number, work: () => Promise<{ rows: unknown[] } | void>): Promise<void> => {
    try {
      const r = await work();
      send({ t: 'done', id, ...(r ? { rows: r.rows } : {}) });
    } catch (e) {
      send({ t: 'error', id, error: serializeError(e) });
      if (isAbort(e)) setImmediate(() => process.exit(1));
    }
  };
  /** In a transaction, exec goes through PGlite's transaction object (db.exec would wait for the transaction's end). */
  const run = (r: Request & { t: 'query' | 'exec' }, tx?: Transaction) =>
    r.t === 'query' ? () => statements.query(r.sql, r.params) : () => exec(tx ?? db, r.sql);
  const exec = async (on: PGlite | Transaction, sql: string) => {
    try {
      await on.exec(sql);
    } finally {
      await statements.forgetAll();
    }
  };

  /** Statements of one open transaction, handed to it in order. */
  class Channel {
    private queue: Request[] = [];
    private wake: (() => void) | null = null;
    private ended = false;
    push(r: Request): void {
      if (this.ended) return void ('id' in r && refuse(r.id, 'The transaction is no longer open'));
      this.queue.push(r);
      this.wake?.();
      this.wake = null;
    }
    async next(): Promise<Request> {
      while (!this.queue.length) await new Promise<void>((resolve) => (this.wake = resolve));
      return this.queue.shift()!;
    }
    /** Whatever came after the transaction's end is refused (a statement nobody awaited). */
    end(): void {
      this.ended = true;
      for (const r of this.queue.splice(0)) if ('id' in r) refuse(r.id, 'The transaction is no longer open');
    }
  }
  const open = new Map<number, Channel>();
  let closing = false;
  const ROLLBACK = Symbol('rollback');

  const transaction = (id: number, txId: number) => {
    const ch = new Channel();
    open.set(txId, ch);
    enqueue(async () => {
      await answer(id, async () => {
        try {
          // PGlite's own transaction: BEGIN, COMMIT (a failed one is an error), ROLLBACK on throw.
          await db.transaction(async (tx) => {
            for (;;) {
              const r = await ch.next();
              if (r.t === 'end') {
                if (r.commit) return;
                throw r.closing ? new Error('PGlite is closed: the transaction was rolled back') : ROLLBACK;
              }
              // A failed statement is answered; the main thread then ends the transaction.
              if (r.t === 'query' || r.t === 'exec') await answer(r.id, run(r, tx));
            }
          });
        } catch (e) {
          if (e !== ROLLBACK) throw e;
        } finally {
          open.delete(txId);
          ch.end();
        }
      });
    });
  };

  port.on('message', (r: Request) => {
    if (closing && r.t !== 'end') return void ('id' in r && refuse(r.id, 'PGlite is closed'));
    switch (r.t) {
      case 'query':
      case 'exec': {
        if (r.tx === undefined) return enqueue(() => answer(r.id, run(r)));
        const ch = open.get(r.tx);
        if (ch) ch.push(r);
        else refuse(r.id, 'The transaction is no longer open');
        return;
      }
      case 'begin':
        return transaction(r.id, r.tx);
      case 'end':
        return open.get(r.tx)?.push(r);
      case 'close':
        closing = true;
        // Transactions still open are rolled back; what was asked before runs, then PGlite
        // closes (the files it holds are written) and the main thread ends this thread.
        for (const [tx, ch] of open) ch.push({ t: 'end', tx, commit: false, closing: true });
        return enqueue(() => answer(r.id, () => db.close()));
    }
  });

  openPglite(dir).then(
    async (opened) => {
      if (createOnly) {
        await opened.close();
        return send({ t: 'ready' });
      }
      db = opened;
      statements = new PreparedStatements(db);
      send({ t: 'ready' });
    },
    (e: unknown) => send({ t: 'failed', error: serializeError(e) }),
  );
}
