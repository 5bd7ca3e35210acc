/**
 * `npm run bench`: index build time (cold, no saved index), per-question latency of the
 * retriever once the index is loaded, and /api/chat under load (autocannon, 50 concurrent
 * citizens, eval questions, embedded defaults), then /api/assist one utterance at a time.
 * Figures, not pass/fail.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Asker } from '../bot/ask.ts';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PROJECT_ROOT } from '../bot/config.ts';
import type { Config } from '../bot/config.ts';
import { loadCatalogue } from '../knowledge-base/catalogue.ts';
import { openKnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import { readDataset } from './dataset.ts';
import { percentile } from './metrics.ts';
import { DATASETS_DIR } from './run-eval.ts';

export async function runBench(config: Config): Promise<void> {
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'xiaoan-bench-'));
  try {
    const builds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await openKnowledgeBase({ ...config, dataDir: path.join(tmp, String(i)) });
      builds.push(performance.now() - t);
    }
    const t = performance.now();
    const kb = await openKnowledgeBase({ ...config, dataDir: path.join(tmp, '0') });
    const reload = performance.now() - t;
    console.log(`index build (cold, 3 runs): ${builds.map((b) => `${b.toFixed(0)} ms`).join(', ')}; reload of a saved index: ${reload.toFixed(0)} ms`);

    const ids = new Set(loadCatalogue(config.cataloguePath).map((c) => c.id));
    const questions = readdirSync(DATASETS_DIR)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readDataset(path.join(DATASETS_DIR, f), ids).map((c) => c.q));
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
      return { lat, perSecond: lat.length / ((performance.now() - started) / 1000) };
    };
    // First pass: every question new to the retriever. Second pass: answered from its cache.
    for (const [label, { lat, perSecond }] of [['new questions', await timeAll()], ['repeated questions (cached)', await timeAll()]] as const) {
      console.log(
        `ask, ${label}: ${lat.length} questions; p50 ${percentile(lat, 50).toFixed(2)} ms, p95 ${percentile(lat, 95).toFixed(2)} ms, ` +
          `p99 ${percentile(lat, 99).toFixed(2)} ms, ${perSecond.toFixed(0)} questions/s on one core`,
      );
    }
    console.log(`RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    await benchChat(path.join(tmp, 'chat'), questions);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const BENCH_TOKEN = randomBytes(24).toString('hex');

/** Starts 小安 as its own process (as in production), so the load generator does not share its event loop. */
async function startServerProcess(dataDir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js'), 'serve'], {
    // The load names its citizens as a trusted integration does, and is not rate-limited.
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', CHAT_API_TOKEN: BENCH_TOKEN, ASSIST_API_TOKEN: BENCH_TOKEN, STAFF_API_TOKEN: BENCH_TOKEN,
      CHAT_RATE_PER_MINUTE: '1000000', HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /localhost:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** 50 concurrent citizens, each a connection with its own userId, asking eval questions in turn. */
async function benchChat(dataDir: string, questions: string[]): Promise<void> {
  const server = await startServerProcess(dataDir);
  try {
    const run = (duration: number, connections = 50) => {
      const times: number[] = [];
      let users = 0;
      const instance = autocannon({
        url: `http://127.0.0.1:${server.port}`,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            path: '/api/chat',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
            setupRequest: (req, ctx: object) => {
              const context = ctx as Record<string, number>;
              context.user ??= ++users;
              context.n = (context.n ?? context.user * 7) + 1;
              return { ...req, body: JSON.stringify({ userId: `bench-${context.user}`, text: questions[context.n % questions.length] }) };
            },
          },
        ],
      });
      (instance as unknown as NodeJS.EventEmitter).on("response", (_c: unknown, _s: unknown, _b: unknown, ms: number) => times.push(ms));
      return instance.then((result) => ({ result, times }));
    };
    await run(3); // warm-up
    const report = (label: string, { result, times }: { result: autocannon.Result; times: number[] }) =>
      console.log(
        `/api/chat, ${label}: ${result.requests.total} turns, ${(result.requests.total / 15).toFixed(0)} turns/s, ` +
          `p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, ` +
          `errors ${result.errors}, non-2xx ${result.non2xx}`,
      );
    // 50 citizens as fast as they can (closed loop): the throughput ceiling of one process.
    // By Little's law their latency is 50 / throughput, so it mostly measures the queue.
    report('50 concurrent citizens, flat out, 15 s', await run(15, 50));
    // One citizen at a time: the time a single turn takes end to end over HTTP.
    report('1 citizen at a time, 15 s', await run(15, 1));
    await benchAssist(server.port, questions);
    await benchInboxPush(server.port);
  } finally {
    await server.stop();
  }
}

/**
 * 人工会话: how long after a citizen's 转人工 is sent the hand-over reaches an open console
 * (the server-sent event on /api/staff/inbox/events), one hand-over at a time.
 */
async function benchInboxPush(port: number): Promise<void> {
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
  console.log(
    `inbox push, 转人工 sent → event at the console (${delays.length} hand-overs): ` +
      `median ${percentile(delays, 50).toFixed(1)} ms, p95 ${percentile(delays, 95).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms`,
  );
}

/**
 * 热线助手: POST /api/assist as a hotline system, one utterance at a time, each call a question
 * and a follow-up in its context ("要多少钱"); the median is what an agent waits.
 */
async function benchAssist(port: number, questions: string[]): Promise<void> {
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
  console.log(
    `/api/assist, one utterance at a time (${calls} calls, question + follow-up): ${lat.length} utterances; ` +
      `median ${percentile(lat, 50).toFixed(1)} ms, p95 ${percentile(lat, 95).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms`,
  );
}
