/**
 * The 微信客服 channel when things go wrong, against the local WeCom simulator over real HTTP
 * (PGlite, and PostgreSQL when TEST_DATABASE_URL is set): stale and replayed callbacks, a
 * process killed mid-pull, messages with control characters, a message whose handling keeps
 * failing, a lost callback, and a pull lease left by a dead process.
 */
import { spawnSync } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDialogEngine, type DialogEngine } from '../../../bot/engine.ts';
import type { Inbound } from '../../../bot/messages.ts';
import type { Database } from '../../../bot/store/database.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';
import { text } from '../../../handlers/texts.ts';
import { LEASE_HOST, replyMsgId, toWecomMessages, WecomChannel, type WecomChannelOptions } from '../../../integrations/wecom/channel.ts';
import { WecomClient } from '../../../integrations/wecom/client.ts';
import { WecomCrypto } from '../../../integrations/wecom/crypto.ts';
import { WecomSimulator } from '../../../integrations/wecom/simulator.ts';
import { testStores } from '../../helpers/databases.ts';
import { removeDir, testConfig } from '../../helpers/kb.ts';

const config = testConfig();
let kb: KnowledgeBase;
beforeAll(async () => {
  kb = await openKnowledgeBase(config);
});
afterAll(() => removeDir(config.dataDir));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Repeats step until it says done (a functional wait, with a generous bound; not a timing assertion). */
async function until(step: () => Promise<boolean> | boolean, what: string, boundMs = 15_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!(await step())) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await sleep(25);
  }
}

/**
 * The store as a process sees it until it is killed: from the first statement `dies` picks,
 * nothing the process asks of the store happens any more, and it waits forever (kill -9).
 */
function mortal(db: Database, dies: (sql: string) => boolean): { db: Database; died: Promise<void> } {
  let dead = false;
  let die!: () => void;
  const died = new Promise<void>((r) => (die = r));
  const never = new Promise<never>(() => {});
  const gate = <T,>(sql: string, run: () => Promise<T>): Promise<T> => {
    if (!dead && dies(sql)) {
      dead = true;
      die();
    }
    return dead ? never : run();
  };
  return {
    died,
    db: {
      kind: db.kind,
      query: <T,>(sql: string, params?: unknown[]) => gate(sql, () => db.query<T>(sql, params)),
      exec: (sql: string) => gate(sql, () => db.exec(sql)),
      transaction: <T,>(fn: Parameters<Database['transaction']>[0]) => gate('BEGIN', () => db.transaction(fn)) as Promise<T>,
      close: async () => {},
    },
  };
}

describe.each(testStores)('微信客服 channel reliability on $name', (store) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  const servers: Server[] = [];
  const sims: WecomSimulator[] = [];
  const channels: WecomChannel[] = [];
  beforeAll(async () => {
    ({ db, cleanup } = await store.open());
  });
  afterEach(async () => {
    for (const c of channels.splice(0)) {
      c.stop();
      await c.idle();
    }
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    for (const s of sims.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await cleanup();
  });

  /**
   * One 微信客服 account for one test (its own corp, cursor and lease), a simulator for it,
   * and an HTTP endpoint for its callbacks. Each `instance()` is a 小安 process: its own engine
   * and client, on the given store.
   */
  async function account(name: string) {
    let router: Router | null = null;
    const app = express();
    app.use((req, res, next) => (router ? router(req, res, next) : next()));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    servers.push(server);
    const corp = { corpId: `ww${name}`, secret: 'sim-secret', token: `token${name}`, encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', openKfId: `wk${name}` };
    const sim = new WecomSimulator({ ...corp, callbackUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wecom/callback` });
    await sim.start();
    sims.push(sim);
    const instance = (o: Partial<WecomChannelOptions> & { db?: Database; wrap?: (engine: DialogEngine) => void } = {}) => {
      const pdb = o.db ?? db;
      const engine = createDialogEngine(config, kb, pdb);
      o.wrap?.(engine);
      const channel = new WecomChannel({
        engine,
        client: new WecomClient({ apiBase: sim.baseUrl, corpId: corp.corpId, secret: corp.secret, db: pdb, backoffMs: 1 }),
        crypto: new WecomCrypto(corp.token, corp.encodingAesKey, corp.corpId),
        openKfId: corp.openKfId,
        retryDelayMs: 0,
        ...o,
        db: pdb,
      });
      if (!o.db) channels.push(channel);
      return channel;
    };
    const log = () => (sim as unknown as { log: Array<{ msgid: string; external_userid?: string }> }).log;
    return {
      corp,
      sim,
      instance,
      /** Callbacks go to this channel's routes. */
      listen: (c: WecomChannel) => void (router = c.routes()),
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      sentTo: (user: string) => sim.sent.filter((m) => m.touser === user),
      /** The msgid of the simulator's last message from this citizen. */
      lastMsgid: (user: string) => log().filter((m) => m.external_userid === user).at(-1)!.msgid,
      cursor: async () => (await db.query<{ cursor: string | null }>('SELECT cursor FROM wecom_cursors WHERE open_kfid = $1', [corp.openKfId])).rows[0]?.cursor ?? null,
    };
  }

  const handled = async (msgid: string) =>
    (await db.query<{ delivered: boolean; replies: unknown[] }>("SELECT delivered, replies FROM handled_messages WHERE channel = 'wecom' AND message_id = $1", [msgid])).rows[0];
  const inboundRows = async (user: string) =>
    Number(
      (
        await db.query<{ n: string }>(
          "SELECT count(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.channel = 'wecom' AND c.user_id = $1 AND m.direction = 'in'",
          [user],
        )
      ).rows[0]!.n,
    );

  it('refuses a callback whose timestamp is not within 5 minutes (GET and POST), and pulls nothing', async () => {
    const a = await account('stale');
    const ch = a.instance();
    a.listen(ch);
    const crypto = new WecomCrypto(a.corp.token, a.corp.encodingAesKey, a.corp.corpId);
    const echostr = crypto.encrypt('5551212');
    const get = (ts: string, nonce: string) => fetch(`${a.base}/wecom/callback?msg_signature=${crypto.signature(ts, nonce, echostr)}&timestamp=${ts}&nonce=${nonce}&echostr=${encodeURIComponent(echostr)}`);
    // Correctly signed, but from 2001, or 10 minutes ahead: refused.
    expect((await get('1000000000', 'g1')).status).toBe(403);
    expect((await get(String(Math.floor(Date.now() / 1000) + 600), 'g2')).status).toBe(403);
    expect((await get('not-a-time', 'g3')).status).toBe(403);
    const fresh = await get(String(Math.floor(Date.now() / 1000)), 'g4');
    expect(fresh.status).toBe(200);
    expect(await fresh.text()).toBe('5551212');

    a.sim.citizenSays('s1', '你好');
    const calls = a.sim.syncMsgCalls;
    const { url, init } = a.sim.callbackRequest('1000000000');
    const res = await fetch(url, init);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('stale');
    await ch.idle();
    expect(a.sim.syncMsgCalls).toBe(calls);
    expect(a.sentTo('s1')).toEqual([]);
    // The signature is still checked first: a forged stale one is a bad signature.
    expect((await fetch(url.replace(/msg_signature=\w+/, `msg_signature=${'0'.repeat(40)}`), init)).status).toBe(401);
  });

  it('refuses a replayed callback (same nonce and signature) and pulls nothing for it', async () => {
    const a = await account('replay');
    const ch = a.instance();
    a.listen(ch);
    a.sim.citizenSays('r1', '你好');
    const { url, init } = a.sim.callbackRequest();
    expect((await fetch(url, init)).status).toBe(200);
    await ch.idle();
    const answered = a.sentTo('r1').length;
    expect(answered).toBeGreaterThan(0);

    a.sim.citizenSays('r1', '护照怎么办');
    const calls = a.sim.syncMsgCalls;
    const replay = await fetch(url, init);
    expect(replay.status).toBe(403);
    expect(await replay.text()).toContain('replayed');
    await ch.idle();
    expect(a.sim.syncMsgCalls).toBe(calls);
    expect(a.sentTo('r1')).toHaveLength(answered);
    // The next genuine callback is taken.
    expect(await a.sim.announce()).toEqual([200]);
    await ch.idle();
    expect(a.sentTo('r1').length).toBeGreaterThan(answered);

    // URL verification too.
    const crypto = new WecomCrypto(a.corp.token, a.corp.encodingAesKey, a.corp.corpId);
    const echostr = crypto.encrypt('42');
    const ts = String(Math.floor(Date.now() / 1000));
    const verify = `${a.base}/wecom/callback?msg_signature=${crypto.signature(ts, 'v1', echostr)}&timestamp=${ts}&nonce=v1&echostr=${encodeURIComponent(echostr)}`;
    expect((await fetch(verify)).status).toBe(200);
    expect((await fetch(verify)).status).toBe(403);
  });

  it('a turn recorded but not delivered when the process died is sent once after a restart, not handled again', async () => {
    const a = await account('recorded');
    a.sim.citizenSays('k1', '身份证丢了补办要多少钱');
    const msgid = a.lastMsgid('k1');
    // The first process dies after its turn was saved, when it had sent one reply at most.
    let recorded = false;
    let tokenReads = 0;
    const first = mortal(db, (sql) => {
      if (sql.includes('INSERT INTO handled_messages')) {
        recorded = true;
        return false;
      }
      if (!recorded) return false;
      // Each send reads the access token first: the second send never happens.
      if (sql.includes('FROM wecom_tokens')) tokenReads++;
      return tokenReads >= 2 || sql.includes('UPDATE wecom_budget');
    });
    void a.instance({ db: first.db, leaseMs: 300 }).pull();
    await first.died;
    const row = await handled(msgid);
    expect(row).toMatchObject({ delivered: false });
    const replies = toWecomMessages(row!.replies as never);
    expect(replies.length).toBeGreaterThan(1);
    expect(a.sentTo('k1').map((m) => m.msgid)).toEqual([replyMsgId(msgid, 0)]);
    expect(await a.cursor()).toBeNull();

    // The restart: a new process on the same store takes over once the dead one's lease runs out.
    const second = a.instance();
    await until(async () => {
      await second.pull();
      return (await handled(msgid))!.delivered;
    }, 'the restarted process delivers');
    const sent = a.sentTo('k1');
    expect(sent.map((m) => m.msgid)).toEqual(replies.map((_, i) => replyMsgId(msgid, i)));
    expect(sent.map((m) => m.content ?? m.menu?.head_content)).toEqual(replies.map((m) => (m.msgtype === 'text' ? m.text.content : m.msgmenu.head_content)));
    expect(sent.filter((m) => m.content?.includes('40 元'))).toHaveLength(1);
    expect(await inboundRows('k1')).toBe(1);
    expect(await a.cursor()).not.toBeNull();
    // And it stays answered once.
    await second.pull();
    expect(a.sentTo('k1')).toHaveLength(replies.length);
  });

  it('a message pulled but not recorded when the process died is answered once after a restart', async () => {
    const a = await account('unrecorded');
    a.sim.citizenSays('k2', '护照怎么办');
    const msgid = a.lastMsgid('k2');
    // The first process dies as it saves the turn: the turn began, nothing of it was kept.
    const first = mortal(db, (sql) => sql.includes('INSERT INTO handled_messages'));
    void a.instance({ db: first.db, leaseMs: 300 }).pull();
    await first.died;
    expect(await handled(msgid)).toBeUndefined();
    expect(a.sentTo('k2')).toEqual([]);

    const second = a.instance();
    await until(async () => {
      await second.pull();
      return (await handled(msgid))?.delivered === true;
    }, 'the restarted process answers');
    const replies = toWecomMessages((await handled(msgid))!.replies as never);
    expect(a.sentTo('k2').map((m) => m.msgid)).toEqual(replies.map((_, i) => replyMsgId(msgid, i)));
    await second.pull();
    expect(a.sentTo('k2')).toHaveLength(replies.length);
  });

  it('answers a message with NUL and other control characters, and every message after it in the batch', async () => {
    const a = await account('nul');
    const ch = a.instance();
    a.listen(ch);
    a.sim.citizenSays('n1', '身份证\u0000丢了\u0007怎么补');
    a.sim.citizenSays('n2', '\u0000\u0001\u001f');
    a.sim.citizenSays('n3', '护照\uD800多少钱');
    a.sim.citizenSays('n4', '你好');
    const msgids = ['n1', 'n2', 'n3', 'n4'].map((u) => a.lastMsgid(u));
    await a.sim.announce();
    await ch.idle();
    for (const id of msgids) expect(await handled(id)).toMatchObject({ delivered: true });
    for (const u of ['n1', 'n2', 'n3', 'n4']) expect(a.sentTo(u).length).toBeGreaterThan(0);
    // Read as "身份证丢了怎么补": which 补领 applies?
    expect(JSON.stringify(a.sentTo('n1'))).toContain('补领');
    // Nothing but control characters: answered like opening the chat.
    expect(a.sentTo('n2')[0]!.menu?.head_content).toContain('您好，我是小安');
    expect(a.sentTo('n4')[0]!.content ?? a.sentTo('n4')[0]!.menu?.head_content).toContain('您好');
    expect(await a.cursor()).not.toBeNull();
  });

  it('tries a message that keeps throwing a few times, then apologises once; the batch goes on', async () => {
    const a = await account('poison');
    let throws = 0;
    const ch = a.instance({
      maxAttempts: 3,
      wrap: (engine) => {
        const handle = engine.handle.bind(engine);
        engine.handle = (inbound: Inbound, max?: number) => {
          if (inbound.text?.includes('触发故障')) {
            throws++;
            return Promise.reject(new Error('handler bug'));
          }
          return handle(inbound, max);
        };
      },
    });
    a.listen(ch);
    a.sim.citizenSays('p1', '你好');
    a.sim.citizenSays('p2', '请帮我查一下触发故障');
    a.sim.citizenSays('p1', '身份证丢了怎么补');
    a.sim.citizenSays('p3', '护照怎么办');
    const bad = a.lastMsgid('p2');
    await a.sim.announce();
    await ch.idle();
    // The others are answered at once; the cursor waits before the failed message's batch.
    expect(a.sentTo('p1').length).toBeGreaterThan(1);
    expect(a.sentTo('p3').length).toBeGreaterThan(0);
    expect(a.sentTo('p2')).toEqual([]);
    expect(throws).toBe(1);
    expect(await a.cursor()).toBeNull();
    const others = a.sim.sent.length;

    await ch.pull();
    expect(throws).toBe(2);
    expect(a.sentTo('p2')).toEqual([]);
    await ch.pull();
    expect(throws).toBe(3);
    const apology = a.sentTo('p2');
    expect(apology.map((m) => m.content)).toEqual([text('message_failed')]);
    expect(a.sim.sent.length).toBe(others + 1);
    expect(await a.cursor()).not.toBeNull();
    const { rows } = await db.query<{ attempts: number; gave_up_at: unknown; last_error: string }>('SELECT attempts, gave_up_at, last_error FROM wecom_attempts WHERE msgid = $1', [bad]);
    expect(rows[0]).toMatchObject({ attempts: 3, last_error: 'handler bug' });
    expect(rows[0]!.gave_up_at).not.toBeNull();

    // Done with: not tried again, not apologised twice.
    await ch.pull();
    expect(throws).toBe(3);
    expect(a.sentTo('p2')).toHaveLength(1);
  });

  it('the timer pull answers a message whose callback was lost', async () => {
    const a = await account('timer');
    const ch = a.instance({ pollMs: 50 });
    a.listen(ch);
    ch.start();
    a.sim.citizenSays('t1', '你好');
    await a.sim.announce();
    await until(() => a.sentTo('t1').length > 0, 'the first message is answered');
    const before = a.sentTo('t1').length;
    // WeCom's callback for the next message never arrives.
    a.sim.citizenSays('t1', '驾照到期怎么换');
    const msgid = a.lastMsgid('t1');
    await until(async () => (await handled(msgid))?.delivered === true, 'the timer pulls it');
    expect(a.sentTo('t1').length).toBeGreaterThan(before);
    ch.stop();
    await ch.idle();
    const calls = a.sim.syncMsgCalls;
    await sleep(200);
    expect(a.sim.syncMsgCalls).toBe(calls);
  });

  it('takes over at once a lease left by a dead process of this host, and respects a live one until it runs out', async () => {
    const a = await account('lease');
    const setLease = (holder: string, pid: number, seconds: number) =>
      db.query(
        `INSERT INTO wecom_cursors (open_kfid, holder, holder_host, holder_pid, lease_until) VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second')
         ON CONFLICT (open_kfid) DO UPDATE SET holder = EXCLUDED.holder, holder_host = EXCLUDED.holder_host, holder_pid = EXCLUDED.holder_pid, lease_until = EXCLUDED.lease_until`,
        [a.corp.openKfId, holder, LEASE_HOST, pid, seconds],
      );
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    // A lease for another hour, held by a process that is gone.
    await setLease(`${deadPid}-gone`, deadPid, 3600);
    const ch = a.instance();
    a.sim.citizenSays('l1', '你好');
    await ch.pull();
    expect(a.sentTo('l1').length).toBeGreaterThan(0);

    // A live process (our parent) holds it: no pull, until its lease runs out.
    await setLease(`${process.ppid}-alive`, process.ppid, 3600);
    a.sim.citizenSays('l2', '你好');
    const calls = a.sim.syncMsgCalls;
    await ch.pull();
    expect(a.sim.syncMsgCalls).toBe(calls);
    expect(a.sentTo('l2')).toEqual([]);
    await setLease(`${process.ppid}-alive`, process.ppid, -1);
    await ch.pull();
    expect(a.sentTo('l2').length).toBeGreaterThan(0);
  });

  it('renews the lease while a pull runs longer than it, so no other process pulls meanwhile', async () => {
    const a = await account('renew');
    let reached!: () => void;
    const inside = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = a.instance({
      leaseMs: 300,
      wrap: (engine) => {
        const handle = engine.handle.bind(engine);
        engine.handle = async (inbound: Inbound, max?: number) => {
          reached();
          await gate;
          return handle(inbound, max);
        };
      },
    });
    const other = a.instance({ leaseMs: 300 });
    a.sim.citizenSays('w1', '你好');
    const pulling = slow.pull();
    await inside;
    await sleep(900); // three leases long: only renewal keeps it
    const calls = a.sim.syncMsgCalls;
    await other.pull();
    const pulledMeanwhile = a.sim.syncMsgCalls - calls;
    release();
    await pulling;
    expect(pulledMeanwhile).toBe(0);
    expect(a.sentTo('w1').length).toBeGreaterThan(0);
    // Released at the end: the other process pulls at once.
    await other.pull();
    expect(a.sim.syncMsgCalls).toBe(calls + 1);
  });
});
