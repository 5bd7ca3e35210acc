/**
 * Three 小安 processes on one PostgreSQL, as a bureau runs them behind a load balancer: one
 * citizen's messages spread over all three are handled one at a time, in order, with one
 * state; cases written while the case platform is down are delivered once when it is back;
 * a case result arriving at one process reaches the chat open on another, as do the
 * consoles' events; background work runs in one of them; a release switches all three.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCallback } from '../../../integrations/case-platform/signature.ts';
import type { Case } from '../../../integrations/case-platform/types.ts';
import { currentRelease, publishRelease } from '../../../knowledge-base/releases.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';
import { staffLogin } from '../../helpers/staff.ts';
import { freshSchema } from '../../helpers/databases.ts';
import { startReplica, type Replica } from '../../helpers/replicas.ts';

const url = process.env.TEST_DATABASE_URL;
const CHAT_TOKEN = 'chat-token-0123456789';
const STAFF_TOKEN = 'staff-token-0123456789';
const SECRET = 'callback-secret-0123456789';
const PLATFORM_KEY = 'platform-key-0123456789';

/** A case platform speaking the contract (integrations/case-platform/openapi.yaml); it can be down. */
function fakePlatform() {
  const cases = new Map<string, Case & { citizenId: string }>();
  const creates: Array<{ key: string; status: number }> = [];
  const state = { down: false };
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.headers.authorization !== `Bearer ${PLATFORM_KEY}`) return send(401, { error: 'unauthorized' });
      const u = new URL(req.url ?? '/', 'http://platform');
      if (req.method === 'POST' && u.pathname === '/cases') {
        const key = String(req.headers['idempotency-key']);
        if (state.down) {
          creates.push({ key, status: 503 });
          return send(503, { error: 'maintenance' });
        }
        creates.push({ key, status: 201 });
        const existing = [...cases.values()].find((c) => c.id === `P-${key}`);
        if (existing) return send(201, existing);
        const n = JSON.parse(body) as { type: Case['type']; description: string; citizen: { id: string } };
        const c = { id: `P-${key}`, status: 'submitted' as const, type: n.type, description: n.description, round: 1, level: 1 as const, createdAt: new Date().toISOString(), citizenId: n.citizen.id };
        cases.set(c.id, c);
        return send(201, c);
      }
      const one = /^\/cases\/([^/]+)$/.exec(u.pathname);
      if (req.method === 'GET' && one) {
        const c = cases.get(decodeURIComponent(one[1]!));
        return c ? send(200, c) : send(404, { error: 'no such case' });
      }
      const feedback = /^\/cases\/([^/]+)\/feedback$/.exec(u.pathname);
      if (req.method === 'POST' && feedback) {
        const c = cases.get(decodeURIComponent(feedback[1]!));
        return c ? send(200, c) : send(404, { error: 'no such case' });
      }
      if (req.method === 'GET' && u.pathname === '/cases') return send(200, { cases: [...cases.values()].filter((c) => c.citizenId === u.searchParams.get('citizenId')) });
      send(404, { error: 'not here' });
    });
  });
  return { server, cases, creates, state };
}

describe.skipIf(!url)('three replicas on one PostgreSQL', () => {
  const platform = fakePlatform();
  const replicas: Replica[] = [];
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let db: pg.Client;
  const dataDir = tempDir('xiaoan-replicas-');

  beforeAll(async () => {
    platform.server.listen(0, '127.0.0.1');
    await new Promise((r) => platform.server.once('listening', r));
    schema = await freshSchema(url!, 'xiaoan_replicas');
    db = new pg.Client({ connectionString: schema.databaseUrl });
    await db.connect();
    const env = {
      DATABASE_URL: schema.databaseUrl,
      // One folder for all three, as replicas on one machine may share it (the index is written once).
      DATA_DIR: dataDir,
      CHAT_API_TOKEN: CHAT_TOKEN,
      STAFF_API_TOKEN: STAFF_TOKEN,
      CASE_PLATFORM_URL: `http://127.0.0.1:${(platform.server.address() as AddressInfo).port}`,
      CASE_PLATFORM_KEY: PLATFORM_KEY,
      CASE_CALLBACK_SECRET: SECRET,
      HANDOFF_MODE: 'queue',
      SERVICE_HOURS: '7×24 小时',
      CHAT_RATE_PER_MINUTE: '100000',
      KB_RELEASE_CHECK_MS: '10000',
    };
    // The first builds the index and seeds the store; the other two start on what it left.
    replicas.push(await startReplica('A', env));
    replicas.push(...(await Promise.all([startReplica('B', env), startReplica('C', env)])));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.end();
    await schema?.drop();
    platform.server.close();
    removeDir(dataDir);
  }, 60_000);

  const chat = async (r: Replica, userId: string, body: Record<string, unknown>) => {
    const res = await fetch(`${r.base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_TOKEN}` },
      body: JSON.stringify({ userId, ...body }),
    });
    // A failure names what the replica logged about it.
    expect(res.status, `${r.name}: ${JSON.stringify(body)} ${JSON.stringify(r.logs.filter((l) => l.level === 'warn' || l.level === 'error').slice(-3))}`).toBe(200);
    return (await res.json()) as { replies: Array<{ type: string; text?: string; head?: string }>; item: { id: string } | null; intent: string };
  };
  const textOf = (r: { replies: Array<{ text?: string; head?: string }> }) => r.replies.map((x) => x.text ?? x.head).join('\n');
  const transcript = async (userId: string) =>
    (
      await db.query<{ direction: string; text: string | null }>(
        `SELECT m.direction, m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.channel = 'api' AND c.user_id = $1 ORDER BY m.id`,
        [userId],
      )
    ).rows;
  /** Resolves with the data of the first event of `type` on a server-sent event stream. */
  const nextEvent = (target: string, headers: Record<string, string>, type: string, match: (data: string) => boolean = () => true) => {
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const event = new Promise<string>((resolve, reject) => {
      const req = http.get(target, { headers }, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          if (buf.includes(': connected')) opened();
          for (const m of buf.matchAll(/event: (\S+)\ndata: (.*)\n\n/g)) {
            if (m[1] === type && match(m[2]!)) {
              req.destroy();
              resolve(m[2]!);
            }
          }
        });
      });
      req.on('error', reject);
    });
    return { open, event };
  };

  it('runs background work in one replica only', () => {
    const leaders = replicas.filter((r) => r.logs.some((l) => l.leader === true));
    expect(leaders).toHaveLength(1);
  });

  it('carries one citizen\u2019s state from replica to replica', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const first = await chat(a, 'walker', { text: '身份证丢了怎么补办' });
    expect(first.item?.id).toMatch(/^sfz-/);
    // The follow-ups name no item: only the state written by the other processes says which.
    const fee = await chat(b, 'walker', { text: '要多少钱' });
    expect(fee.item?.id).toBe(first.item?.id);
    const time = await chat(c, 'walker', { text: '多久能拿到' });
    expect(time.item?.id).toBe(first.item?.id);
  });

  it('handles one citizen\u2019s messages one at a time across the replicas, in the order each was taken', async () => {
    const questions = ['护照怎么办', '驾驶证到期换证', '居住证怎么办', '户口迁移', '身份证丢了', '车辆年检', '无犯罪记录证明', '港澳通行证续签', '交通违法怎么处理'];
    const answers = await Promise.all(questions.map((q, i) => chat(replicas[i % 3]!, 'crowd', { text: q })));
    expect(answers.every((a) => a.replies.length > 0)).toBe(true);
    // Each message's replies are written before the next message is taken, by whichever replica.
    const rows = await transcript('crowd');
    expect(rows.filter((r) => r.direction === 'in')).toHaveLength(questions.length);
    const turns: string[][] = [];
    for (const r of rows) {
      if (r.direction === 'in') turns.push([]);
      else turns.at(-1)!.push(r.text ?? '');
    }
    expect(turns.every((out) => out.length > 0)).toBe(true);
  });

  it('delivers each case written during a platform outage once, with all three running', async () => {
    platform.state.down = true;
    const refs: string[] = [];
    for (let n = 0; n < 3; n++) {
      const citizen = `reporter-${n}`;
      // Each step of the report goes to the next replica: the draft lives in the store.
      const steps: Array<Record<string, unknown>> = [
        { text: `我要投诉，人民路${n + 1}号的KTV每天半夜噪音扰民，严重影响休息` },
        { text: `人民路 ${n + 1} 号` },
        { text: `1380000111${n}` },
        { menuId: 'case:skip' },
        { menuId: 'case:consent:yes' },
        { menuId: 'case:submit' },
      ];
      let last = '';
      for (const [i, step] of steps.entries()) last = textOf(await chat(replicas[(n + i) % 3]!, citizen, step));
      const ref = /T\d{6}/.exec(last)?.[0];
      expect(ref, last).toBeDefined();
      refs.push(ref!);
    }
    expect(platform.cases.size).toBe(0);
    platform.state.down = false;
    // The leader's outbox retries them (within its backoff, seconds).
    await expect.poll(() => platform.cases.size, { timeout: 40_000, interval: 250 }).toBe(3);
    await new Promise((r) => setTimeout(r, 6_000)); // another retry tick: nothing goes twice
    const accepted = platform.creates.filter((c) => c.status === 201);
    expect(accepted).toHaveLength(3);
    expect(new Set(accepted.map((c) => c.key)).size).toBe(3);
    const { rows } = await db.query<{ status: string }>(`SELECT status FROM outbox WHERE kind = 'create_case'`);
    expect(rows.map((r) => r.status)).toEqual(['done', 'done', 'done']);
  }, 90_000);

  it('brings a case result received by one replica to the chat open on another, with its survey', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const c = [...platform.cases.values()].find((x) => x.citizenId === 'api:reporter-0');
    expect(c).toBeDefined();
    const stream = nextEvent(`${a.base}/api/chat/events?userId=reporter-0`, { authorization: `Bearer ${CHAT_TOKEN}` }, 'message');
    await stream.open;
    const closed: Case = { ...c!, status: 'closed', reply: '民警已到场，责令该KTV夜间停止营业整改，噪音已消除。' };
    platform.cases.set(c!.id, { ...closed, citizenId: c!.citizenId });
    const body = JSON.stringify({ eventId: `ev-${c!.id}-closed`, type: 'case.closed', caseId: c!.id, at: new Date().toISOString(), case: closed });
    const signed = signCallback(SECRET, body);
    const res = await fetch(`${b.base}/cases/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-timestamp': signed.timestamp, 'x-signature': signed.signature },
      body,
    });
    expect(res.status).toBe(200);
    const pushed = await stream.event;
    expect(pushed).toContain('噪音已消除');
    expect(pushed).toContain('满意');
    // The survey asked through B is answered on C.
    const rated = await chat(replicas[2]!, 'reporter-0', { menuId: 'rate:满意' });
    expect(textOf(rated)).toContain('感谢您的评价');
  }, 30_000);

  it('shows a hand-over made on one replica in the console open on another', async () => {
    const [a, , c] = replicas as [Replica, Replica, Replica];
    const inbox = nextEvent(`${a.base}/api/staff/inbox/events`, { authorization: `Bearer ${STAFF_TOKEN}` }, 'handoff', (d) => d.includes('"created"') && d.includes('handed-over'));
    await inbox.open;
    await chat(c, 'handed-over', { text: '转人工' });
    expect(JSON.parse(await inbox.event)).toMatchObject({ action: 'created', item: { userId: 'handed-over' } });
  }, 30_000);

  it('switches every replica to a release put in force through one of them', async () => {
    const store = await openDatabase({ dataDir: tempDir(), databaseUrl: schema.databaseUrl });
    try {
      await addStaff(store, 'editor-1', 'editor-password-1', ['editor'], 'cli', { unit: null, displayName: '知识编辑' });
      // Staff sessions live in the store: a login on one replica works on all of them.
      const editor = await staffLogin(replicas[0]!.base, 'editor-1', 'editor-password-1');
      const served = async (r: Replica) => {
        const res = await fetch(`${r.base}/api/staff/knowledge/releases`, { headers: { cookie: editor.cookie } });
        expect(res.status, r.name).toBe(200);
        return ((await res.json()) as { releases: Array<{ id: number; served: boolean }> }).releases.find((x) => x.served)?.id;
      };
      const head = (await currentRelease(store, { files: true }))!;
      const guide = Object.keys(head.files!).find((f) => /^guides\/[^/]+(?<!\.en)\.md$/.test(f))!;
      // A release recorded for next week (nobody serves it yet), put in force now through A.
      const later = await publishRelease(store, { ...head.files!, [guide]: `${head.files![guide]}\n\n（本指南已复核。）\n` }, {
        author: 'editor-1',
        effectiveAt: new Date(Date.now() + 7 * 86_400_000),
      });
      const rolled = await editor.post(`/api/staff/knowledge/releases/${later.id}/rollback`, { note: '提前生效' });
      expect(rolled.status).toBe(200);
      const now = (rolled.body as { id: number }).id;
      expect(await served(replicas[0]!)).toBe(now);
      await expect.poll(() => Promise.all(replicas.map(served)), { timeout: 60_000, interval: 500 }).toEqual([now, now, now]);
      // B and C heard of it from A over the bus (besides their own periodic check).
      for (const r of replicas.slice(1)) expect(r.logs.some((l) => l.msg === 'knowledge release notice' && l.release === now), `${r.name}: ${JSON.stringify(r.logs.filter((l) => l.component !== 'http' && l.component !== 'dialog').slice(-8))}`).toBe(true);
    } finally {
      await store.close();
    }
  }, 90_000);

  it('moves background work to one other replica when the leader is killed', async () => {
    const [a, ...others] = replicas as [Replica, Replica, Replica];
    expect(a.logs.some((l) => l.leader === true)).toBe(true);
    a.child.kill('SIGKILL');
    // Its connections close with it, and with them its lock: one of the others takes it.
    await expect.poll(() => others.filter((r) => r.logs.some((l) => l.leader === true)).length, { timeout: 20_000, interval: 250 }).toBe(1);
    await new Promise((r) => setTimeout(r, 3_000)); // a few more tries: still one
    expect(others.filter((r) => r.logs.some((l) => l.leader === true))).toHaveLength(1);
  }, 40_000);
});
