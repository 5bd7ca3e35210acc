/**
 * `npm run bench`: index build time (cold, no saved index) and per-question latency of the
 * retriever in this process; then 小安 as its own process, as `npm start` runs it (the compiled
 * build), on embedded PGlite and, when BENCH_DATABASE_URL or DATABASE_URL is set, on a fresh
 * PostgreSQL database: start-up time, memory, /api/ask and /api/chat flat out (autocannon,
 * 50 connections), /api/chat at a fixed offered rate (open loop), one citizen at a time,
 * /api/assist and the inbox push. Figures against the goals, not pass/fail; written to
 * eval/reports/bench.md and printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { Asker } from '../bot/ask.ts';
import { PROJECT_ROOT } from '../bot/config.ts';
import type { Config } from '../bot/config.ts';
import { loadCatalogue } from '../knowledge-base/catalogue.ts';
import { openKnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import { readDataset } from './dataset.ts';
import { percentile } from './metrics.ts';
import { openLoop, type OpenLoopResult } from './open-loop.ts';
import { DATASETS_DIR } from './run-eval.ts';

/** The goals of the issue "Fast on one machine, correct on many". */
const GOALS = { startMs: 3_000, chatAskRatio: 0.7, openLoopP99Ms: 50, idleRssMB: 400, peakRssMB: 500 } as const;
const FLAT_OUT = { connections: 50, seconds: 15, warmupSeconds: 3 } as const;
const OPEN_LOOP = { rate: 200, seconds: 15, citizens: 1_000 } as const;
/** Starts on a data dir that already has its index (and database), the median is reported. */
const REUSED_STARTS = 5;
const REPORT_FILE = path.join(PROJECT_ROOT, 'eval', 'reports', 'bench.md');
const BENCH_TOKEN = randomBytes(24).toString('hex');

interface Latencies {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}
interface FlatOut extends Latencies {
  perSecond: number;
  errors: number;
  non2xx: number;
}
interface TargetResult {
  label: string;
  coldStartMs: number;
  reusedStartsMs: number[];
  /** How each start ran: the compiled build, or the sources through tsx (dist/ stale). */
  startModes: string[];
  idleRssMB: number | null;
  peakRssMB: number | null;
  ask: FlatOut;
  chat: FlatOut;
  oneCitizen: FlatOut;
  open: OpenLoopResult;
  assist: Latencies;
  push: Latencies & { max: number };
}
interface InProcess {
  buildsMs: number[];
  reloadMs: number;
  askNew: Latencies & { perSecond: number };
  askCached: Latencies & { perSecond: number };
  rssMB: number;
}

export async function runBench(config: Config): Promise<void> {
  const date = new Date();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
  // Others' work on the machine moves every figure: say how busy it was.
  const load = `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')} at the start`;
  console.log(`machine: ${machine}; ${load}`);
  const pgUrl = process.env.BENCH_DATABASE_URL?.trim() || process.env.DATABASE_URL?.trim() || '';
  const build = await ensureCompiled();
  console.log(`server start path: ${build}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'xiaoan-bench-'));
  try {
    const ids = new Set(loadCatalogue(config.cataloguePath).map((c) => c.id));
    const questions = readdirSync(DATASETS_DIR)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readDataset(path.join(DATASETS_DIR, f), ids).map((c) => c.q));
    const inProcess = await benchInProcess(config, tmp, questions);

    const targets: TargetResult[] = [];
    targets.push(await benchTarget('embedded (PGlite)', path.join(tmp, 'embedded'), { DATABASE_URL: '' }, questions));
    if (pgUrl) {
      const db = await freshPostgresDatabase(pgUrl);
      try {
        targets.push(await benchTarget(`PostgreSQL ${db.version}`, path.join(tmp, 'postgres'), { DATABASE_URL: db.url }, questions));
      } finally {
        await db.drop();
      }
    }
    const report = markdownReport({ date, machine: `${machine}; ${load}`, command: commandLine(), build, inProcess, targets });
    mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
    writeFileSync(REPORT_FILE, report);
    console.log(`\n${report}`);
    console.log(`written to ${path.relative(process.cwd(), REPORT_FILE)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The way this run was started, to repeat it (a database URL's password left out). */
function commandLine(): string {
  const env = process.env.BENCH_DATABASE_URL?.trim() ? 'BENCH_DATABASE_URL' : process.env.DATABASE_URL?.trim() ? 'DATABASE_URL' : null;
  let prefix = '';
  if (env) {
    const u = new URL(process.env[env]!.trim());
    if (u.password) u.password = '***';
    prefix = `${env}=${u.toString()} `;
  }
  const run = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : `node ${path.relative(process.cwd(), process.argv[1] ?? 'bot/cli/xiaoan.js')} ${process.argv.slice(2).join(' ')}`;
  return `${prefix}${run}`;
}

/**
 * The servers are started as `npm start` starts them: the compiled build in dist/. When it is
 * older than the sources it is built first, so the start-up figures are not those of tsx.
 */
async function ensureCompiled(): Promise<string> {
  // compiled.js is plain JavaScript beside the sources (not in dist/): loaded by its path.
  const { freshness } = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'bot', 'cli', 'compiled.js')).href)) as typeof import('../bot/cli/compiled.js');
  if (freshness(PROJECT_ROOT) === 'fresh') return 'compiled (dist/ current)';
  const started = performance.now();
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'build.js')], { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) return 'sources through tsx (the build failed)';
  return `compiled (dist/ was stale: built by the bench in ${((performance.now() - started) / 1000).toFixed(1)} s)`;
}

function latencies(values: number[]): Latencies {
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) };
}

/** The retriever in this process: index builds, reload, question latency. */
async function benchInProcess(config: Config, tmp: string, questions: string[]): Promise<InProcess> {
  const buildsMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await openKnowledgeBase({ ...config, dataDir: path.join(tmp, 'index', String(i)) });
    buildsMs.push(performance.now() - t);
  }
  const t = performance.now();
  const kb = await openKnowledgeBase({ ...config, dataDir: path.join(tmp, 'index', '0') });
  const reloadMs = performance.now() - t;
  console.log(`index build (cold, 3 runs): ${buildsMs.map((b) => `${b.toFixed(0)} ms`).join(', ')}; reload of a saved index: ${reloadMs.toFixed(0)} ms`);

  const asker = new Asker(kb);
  const distinct = [...new Set(questions)];
  await asker.ask('身份证'); // warm-up (lazy initialisation)
  const timeAll = async () => {
    const lat: number[] = [];
    const started = performance.now();
    for (const q of distinct) {
      const s = performance.now();
      await asker.ask(q);
      lat.push(performance.now() - s);
    }
    return { ...latencies(lat), perSecond: lat.length / ((performance.now() - started) / 1000) };
  };
  // First pass: every question new to the retriever. Second pass: answered from its cache.
  const askNew = await timeAll();
  const askCached = await timeAll();
  for (const [label, r] of [['new questions', askNew], ['repeated questions (cached)', askCached]] as const) {
    console.log(
      `ask, ${label}: ${r.n} questions; p50 ${r.p50.toFixed(2)} ms, p95 ${r.p95.toFixed(2)} ms, ` +
        `p99 ${r.p99.toFixed(2)} ms, ${r.perSecond.toFixed(0)} questions/s on one core`,
    );
  }
  const rssMB = process.memoryUsage().rss / 1e6;
  console.log(`RSS of this process with 4 indexes loaded: ${rssMB.toFixed(0)} MB`);
  return { buildsMs, reloadMs, askNew, askCached, rssMB };
}

/** A new database on the server of `url`, dropped afterwards, so figures start from empty tables. */
async function freshPostgresDatabase(url: string): Promise<{ url: string; version: string; drop: () => Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `xiaoan_bench_${randomBytes(4).toString('hex')}`;
  const admin = async <T>(fn: (c: InstanceType<typeof pg.Client>) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const version = await admin(async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    return String((await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '').split(' ')[0]!;
  });
  const u = new URL(url);
  u.pathname = `/${name}`;
  console.log(`PostgreSQL ${version}: fresh database ${name}`);
  return {
    url: u.toString(),
    version,
    drop: () =>
      admin(async (c) => {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      }),
  };
}

interface ServerProcess {
  port: number;
  /** Spawn to the first /readyz 200. */
  readyMs: number;
  mode: string;
  /** VmRSS and VmHWM (peak) of the process in MB (10⁶ bytes, as the goals); null where /proc is not there. */
  memory: () => { rss: number; peak: number } | null;
  stop: () => Promise<void>;
}

function procMemory(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    return Number.isFinite(rss) && Number.isFinite(peak) ? { rss: (rss * 1024) / 1e6, peak: (peak * 1024) / 1e6 } : null;
  } catch {
    return null;
  }
}

/** Starts 小安 as its own process (as in production), so the load generator does not share its event loop. */
async function startServerProcess(dataDir: string, env: Record<string, string>): Promise<ServerProcess> {
  const spawned = performance.now();
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js'), 'serve'], {
    // The load names its citizens as a trusted integration does, and is not rate-limited.
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      CHAT_API_TOKEN: BENCH_TOKEN,
      ASSIST_API_TOKEN: BENCH_TOKEN,
      STAFF_API_TOKEN: BENCH_TOKEN,
      CHAT_RATE_PER_MINUTE: '1000000',
      HANDOFF_MODE: 'queue',
      SERVICE_HOURS: '7×24 小时',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stale = false;
  child.stderr.on('data', (d: Buffer) => {
    const s = d.toString();
    if (s.includes('older than the sources')) stale = true;
    process.stderr.write(s);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /小安已启动：在浏览器打开 http:\/\/localhost:(\d+)\//.exec(out);
      if (m) {
        // From here the log lines are only drained: a bench's worth of them is not kept.
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const readyMs = performance.now() - spawned;
  return {
    port,
    readyMs,
    mode: stale ? 'tsx (dist/ stale)' : 'compiled',
    memory: () => (child.pid ? procMemory(child.pid) : null),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One server configuration: start-ups, memory and every load, in turn. */
async function benchTarget(label: string, dataDir: string, env: Record<string, string>, questions: string[]): Promise<TargetResult> {
  console.log(`\n== ${label} ==`);
  // The first start builds the index and creates the database; the next ones reuse both.
  const cold = await startServerProcess(dataDir, env);
  await cold.stop();
  console.log(`start-up, new data dir (index built, database created): ${cold.readyMs.toFixed(0)} ms (${cold.mode})`);
  const reused: number[] = [];
  const modes = [cold.mode];
  let server: ServerProcess | null = null;
  for (let i = 0; i < REUSED_STARTS; i++) {
    await server?.stop();
    server = await startServerProcess(dataDir, env);
    reused.push(server.readyMs);
    modes.push(server.mode);
  }
  const running = server!;
  console.log(`start-up, reused index (${REUSED_STARTS} starts): ${reused.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (${running.mode})`);
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // settle: the figure is idle, not start-up
    const idle = running.memory();
    console.log(`RSS at idle after start: ${idle ? `${idle.rss.toFixed(0)} MB` : 'n/a'}`);

    const ask = await flatOut(running.port, '/api/ask', (user, n) => ({ text: questions[n % questions.length]! }), false);
    report('/api/ask', ask);
    const chat = await flatOut(running.port, '/api/chat', (user, n) => ({ userId: `bench-${user}`, text: questions[n % questions.length]! }), true);
    report('/api/chat', chat);
    console.log(`/api/chat ÷ /api/ask throughput: ${(chat.perSecond / ask.perSecond).toFixed(2)}`);
    const oneCitizen = await flatOut(running.port, '/api/chat', (user, n) => ({ userId: `bench-one-${user}`, text: questions[n % questions.length]! }), true, 1);
    report('/api/chat, 1 citizen at a time', oneCitizen);
    const open = await openLoop({
      port: running.port,
      path: '/api/chat',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
      rate: OPEN_LOOP.rate,
      durationSeconds: OPEN_LOOP.seconds,
      // Many citizens, so that no citizen's turn waits behind its own previous one.
      body: (i) => JSON.stringify({ userId: `open-${i % OPEN_LOOP.citizens}`, text: questions[(i * 7) % questions.length] }),
      lateMs: GOALS.openLoopP99Ms,
    });
    console.log(
      `/api/chat, open loop at ${OPEN_LOOP.rate} turns/s for ${OPEN_LOOP.seconds} s: ${open.answered}/${open.offered} answered, ` +
        `p50 ${open.p50.toFixed(1)} ms, p95 ${open.p95.toFixed(1)} ms, p99 ${open.p99.toFixed(1)} ms, max ${open.max.toFixed(1)} ms, ` +
        `${open.late} later than ${GOALS.openLoopP99Ms} ms, ${open.failed} failed${open.errors.length ? ` (${open.errors.join('; ')})` : ''}; sender at most ${open.maxSendLagMs.toFixed(1)} ms behind`,
    );
    const assist = await benchAssist(running.port, questions);
    const push = await benchInboxPush(running.port);
    const peak = running.memory();
    console.log(`RSS peak (VmHWM) after the bench: ${peak ? `${peak.peak.toFixed(0)} MB` : 'n/a'}`);
    return {
      label,
      coldStartMs: cold.readyMs,
      reusedStartsMs: reused,
      startModes: [...new Set(modes)],
      idleRssMB: idle?.rss ?? null,
      peakRssMB: peak?.peak ?? null,
      ask,
      chat,
      oneCitizen,
      open,
      assist,
      push,
    };
  } finally {
    await running.stop();
  }
}

function report(label: string, r: FlatOut): void {
  console.log(
    `${label}: ${r.n} requests, ${r.perSecond.toFixed(0)}/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ` +
      `errors ${r.errors}, non-2xx ${r.non2xx}`,
  );
}

/**
 * Requests as fast as `connections` clients can send them (closed loop: each waits for its
 * answer), after a warm-up: the throughput ceiling of one process. By Little's law the latency
 * is then connections / throughput, so it mostly measures the queue. On /api/chat each
 * connection is one citizen, named as a trusted integration names its citizens.
 */
async function flatOut(
  port: number,
  route: string,
  body: (user: number, n: number) => Record<string, string>,
  asIntegration: boolean,
  connections: number = FLAT_OUT.connections,
): Promise<FlatOut> {
  const run = (duration: number) => {
    const times: number[] = [];
    let users = 0;
    const instance = autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration,
      requests: [
        {
          method: 'POST',
          path: route,
          headers: { 'content-type': 'application/json', ...(asIntegration ? { authorization: `Bearer ${BENCH_TOKEN}` } : {}) },
          setupRequest: (req, ctx: object) => {
            const context = ctx as Record<string, number>;
            context.user ??= ++users;
            context.n = (context.n ?? context.user * 7) + 1;
            return { ...req, body: JSON.stringify(body(context.user, context.n)) };
          },
        },
      ],
    });
    (instance as unknown as NodeJS.EventEmitter).on('response', (_c: unknown, _s: unknown, _b: unknown, ms: number) => times.push(ms));
    return instance.then((result) => ({ result, times }));
  };
  await run(FLAT_OUT.warmupSeconds);
  const { result, times } = await run(FLAT_OUT.seconds);
  return { ...latencies(times), n: result.requests.total, perSecond: result.requests.total / result.duration, errors: result.errors, non2xx: result.non2xx };
}

/**
 * 人工会话: how long after a citizen's 转人工 is sent the hand-over reaches an open console
 * (the server-sent event on /api/staff/inbox/events), one hand-over at a time.
 */
async function benchInboxPush(port: number): Promise<Latencies & { max: number }> {
  const base = `http://127.0.0.1:${port}`;
  const events = await fetch(`${base}/api/staff/inbox/events`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const nextHandoff = async (userId: string) => {
    for (;;) {
      const m = new RegExp(`event: handoff\ndata: (.*"action":"created".*"userId":"${userId}".*)\n\n`).exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        return;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the inbox stream ended');
      buf += value;
    }
  };
  const delays: number[] = [];
  for (let i = 0; i < 100; i++) {
    const userId = `bench-handoff-${i}`;
    const started = performance.now();
    const pushed = nextHandoff(userId);
    await fetch(`${base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
      body: JSON.stringify({ userId, text: '转人工' }),
    });
    await pushed;
    delays.push(performance.now() - started);
  }
  await reader.cancel();
  const r = { ...latencies(delays), max: Math.max(...delays) };
  console.log(
    `inbox push, 转人工 sent → event at the console (${r.n} hand-overs): ` +
      `median ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`,
  );
  return r;
}

/**
 * 热线助手: POST /api/assist as a hotline system, one utterance at a time, each call a question
 * and a follow-up in its context ("要多少钱"); the median is what an agent waits.
 */
async function benchAssist(port: number, questions: string[]): Promise<Latencies> {
  const post = async (text: string, callId: string) => {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/assist`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
      body: JSON.stringify({ text, callId }),
    });
    if (!res.ok) throw new Error(`/api/assist answered ${res.status}: ${await res.text()}`);
    await res.json();
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) await post(questions[i % questions.length]!, `warm-${i}`); // warm-up
  const lat: number[] = [];
  const calls = Math.min(questions.length, 500);
  for (let i = 0; i < calls; i++) {
    lat.push(await post(questions[i]!, `bench-call-${i}`));
    lat.push(await post('要多少钱', `bench-call-${i}`));
  }
  const r = latencies(lat);
  console.log(
    `/api/assist, one utterance at a time (${calls} calls, question + follow-up): ${r.n} utterances; ` +
      `median ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
  );
  return r;
}

const ms = (v: number) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`;
const mb = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(0)} MB`);
const met = (ok: boolean | null) => (ok === null ? '' : ok ? ' ✓' : ' ✗');
const median = (values: number[]) => percentile(values, 50);

function markdownReport(r: { date: Date; machine: string; command: string; build: string; inProcess: InProcess; targets: TargetResult[] }): string {
  const t = r.targets;
  const row = (metric: string, goal: string, cell: (x: TargetResult) => string) => `| ${metric} | ${goal} | ${t.map(cell).join(' | ')} |`;
  const flat = (f: FlatOut) => `${f.perSecond.toFixed(0)}/s (p50 ${ms(f.p50)}, p99 ${ms(f.p99)}${f.errors || f.non2xx ? `; ${f.errors} errors, ${f.non2xx} non-2xx` : ''})`;
  const p = r.inProcess;
  return [
    '# 小安 benchmark',
    '',
    `- date: ${r.date.toISOString()}`,
    `- command: \`${r.command}\``,
    `- machine: ${r.machine}`,
    `- server: a separate process started as \`npm start\` starts it (\`node bot/cli/xiaoan.js serve\`), ${r.build}; LOG_LEVEL=info; the load generator in the bench process`,
    `- ✓/✗: against the goals of the issue “Fast on one machine, correct on many”`,
    '',
    '## The server',
    '',
    `| | goal | ${t.map((x) => x.label).join(' | ')} |`,
    `|---|---|${t.map(() => '---|').join('')}`,
    row('start-up to /readyz 200, new data dir (index built, database created)', '', (x) => ms(x.coldStartMs)),
    row(`start-up to /readyz 200, reused index (median of ${REUSED_STARTS})`, `≤ ${GOALS.startMs / 1000} s`, (x) => `${ms(median(x.reusedStartsMs))}${met(median(x.reusedStartsMs) <= GOALS.startMs)} (${x.reusedStartsMs.map(ms).join(', ')})`),
    row('how the server ran', '', (x) => x.startModes.join(', ')),
    row('RSS at idle after start (VmRSS)', `≤ ${GOALS.idleRssMB} MB`, (x) => `${mb(x.idleRssMB)}${met(x.idleRssMB === null ? null : x.idleRssMB <= GOALS.idleRssMB)}`),
    row('RSS peak over the bench (VmHWM)', `≤ ${GOALS.peakRssMB} MB`, (x) => `${mb(x.peakRssMB)}${met(x.peakRssMB === null ? null : x.peakRssMB <= GOALS.peakRssMB)}`),
    row(`POST /api/ask, ${FLAT_OUT.connections} connections flat out, ${FLAT_OUT.seconds} s`, '', (x) => flat(x.ask)),
    row(`POST /api/chat, ${FLAT_OUT.connections} citizens flat out, ${FLAT_OUT.seconds} s`, '', (x) => flat(x.chat)),
    row('throughput /api/chat ÷ /api/ask', `≥ ${GOALS.chatAskRatio}`, (x) => `${(x.chat.perSecond / x.ask.perSecond).toFixed(2)}${met(x.chat.perSecond / x.ask.perSecond >= GOALS.chatAskRatio)}`),
    row(`POST /api/chat, open loop ${OPEN_LOOP.rate} turns/s for ${OPEN_LOOP.seconds} s (${OPEN_LOOP.citizens} citizens): p50 / p95 / p99 / max`, `p99 ≤ ${GOALS.openLoopP99Ms} ms`, (x) => `${ms(x.open.p50)} / ${ms(x.open.p95)} / ${ms(x.open.p99)}${met(x.open.p99 <= GOALS.openLoopP99Ms && x.open.failed === 0)} / ${ms(x.open.max)}`),
    row(`open loop: answered, later than ${GOALS.openLoopP99Ms} ms, failed`, '', (x) => `${x.open.answered} of ${x.open.offered}, ${x.open.late} late, ${x.open.failed} failed${x.open.errors.length ? ` (${x.open.errors.join('; ')})` : ''}`),
    row('open loop: sent rate, sender at most behind schedule', '', (x) => `${x.open.sentRate.toFixed(0)}/s, ${ms(x.open.maxSendLagMs)}`),
    row(`POST /api/chat, 1 citizen at a time, ${FLAT_OUT.seconds} s`, '', (x) => flat(x.oneCitizen)),
    row('POST /api/assist one utterance at a time: median / p95 / p99', '', (x) => `${ms(x.assist.p50)} / ${ms(x.assist.p95)} / ${ms(x.assist.p99)} (${x.assist.n})`),
    row('inbox push, 转人工 → event at the console: median / p95 / max', '', (x) => `${ms(x.push.p50)} / ${ms(x.push.p95)} / ${ms(x.push.max)} (${x.push.n})`),
    '',
    '## The retriever, in the bench process',
    '',
    '| | figure |',
    '|---|---|',
    `| index build, cold (3 runs) | ${p.buildsMs.map(ms).join(', ')} |`,
    `| reload of a saved index | ${ms(p.reloadMs)} |`,
    `| ask, new questions (${p.askNew.n}): p50 / p95 / p99, questions/s on one core | ${ms(p.askNew.p50)} / ${ms(p.askNew.p95)} / ${ms(p.askNew.p99)}, ${p.askNew.perSecond.toFixed(0)}/s |`,
    `| ask, repeated questions (cached): p50 / p95 / p99, questions/s | ${ms(p.askCached.p50)} / ${ms(p.askCached.p95)} / ${ms(p.askCached.p99)}, ${p.askCached.perSecond.toFixed(0)}/s |`,
    `| RSS of the bench process, 4 indexes loaded | ${mb(p.rssMB)} |`,
    '',
  ].join('\n');
}
