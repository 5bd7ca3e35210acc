/**
 * An open-loop load: requests go out on a fixed schedule whatever the answers do, as citizens
 * arrive, unlike autocannon's closed loop where a slow answer holds the next request back and
 * hides the queue. Each request's latency counts from when it was due, not when it went out,
 * so a sender that falls behind does not hide the delay either (no coordinated omission).
 */
import http from 'node:http';
import { percentile } from './metrics.ts';

export interface OpenLoopOptions {
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Requests per second offered. */
  rate: number;
  durationSeconds: number;
  /** The body of the i-th request. */
  body: (i: number) => string;
  /** An answer slower than this counts as late (the goal). */
  lateMs: number;
  /** A request without an answer after this is a failure. */
  timeoutMs?: number;
}

export interface OpenLoopResult {
  offered: number;
  /** Requests per second actually sent over the run. */
  sentRate: number;
  answered: number;
  failed: number;
  /** Answered, but later than lateMs after they were due. */
  late: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** How far behind its schedule the sender fell at worst (its own event loop's delay). */
  maxSendLagMs: number;
  /** The first few failures, to say why. */
  errors: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  // Enough sockets that a request never waits for a free one: that would close the loop again.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const total = Math.round(o.rate * o.durationSeconds);
  const interval = 1000 / o.rate;
  const latencies: number[] = [];
  const errors: string[] = [];
  let failed = 0;
  let maxLag = 0;
  let lastSent = 0;
  const send = (i: number, due: number) =>
    new Promise<void>((resolve) => {
      const body = Buffer.from(o.body(i));
      const req = http.request(
        { host: '127.0.0.1', port: o.port, path: o.path, method: 'POST', agent, headers: { ...o.headers, 'content-length': body.length } },
        (res) => {
          res.resume();
          res.once('end', () => {
            if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) latencies.push(performance.now() - due);
            else {
              failed++;
              if (errors.length < 5) errors.push(`HTTP ${res.statusCode}`);
            }
            resolve();
          });
        },
      );
      req.setTimeout(o.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer within ${o.timeoutMs ?? 10_000} ms`)));
      req.once('error', (e) => {
        failed++;
        if (errors.length < 5) errors.push(e.message);
        resolve();
      });
      req.end(body);
    });
  const inFlight: Promise<void>[] = [];
  const start = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    lastSent = performance.now();
    maxLag = Math.max(maxLag, lastSent - due);
    inFlight.push(send(i, due));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return {
    offered: total,
    sentRate: total / ((lastSent - start + interval) / 1000),
    answered: latencies.length,
    failed,
    late: latencies.filter((l) => l > o.lateMs).length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : 0,
    maxSendLagMs: maxLag,
    errors,
  };
}
