/**
 * The process's metrics, in one registry: counters and histograms observed where the event
 * happens (a turn in the engine, a request in the HTTP middleware, a WeCom refusal in its
 * client). prom-client only, no express, so any part may import it. GET /metrics
 * (server/metrics.ts) serves this registry with the gauges it reads at scrape time.
 * Labels are closed sets (intents, channels, route patterns, status and error codes): never
 * a raw path, a user or a text.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'xiaoan_' });

export const turnDuration = new Histogram({
  name: 'xiaoan_turn_duration_seconds',
  help: 'Time to handle one dialog turn (queue wait for the same citizen excluded), by intent and channel',
  labelNames: ['intent', 'channel'],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const httpRequests = new Counter({
  name: 'xiaoan_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern ("static" for files, "unmatched" for the rest) and status',
  labelNames: ['method', 'route', 'status'],
  registers: [registry],
});

export const wecomApiErrors = new Counter({
  name: 'xiaoan_wecom_api_errors_total',
  help: 'WeCom API answers with errcode other than 0, by errcode (-1: no answer, HTTP 5xx or not JSON)',
  labelNames: ['errcode'],
  registers: [registry],
});

export const llmAnswers = new Counter({
  name: 'xiaoan_llm_answers_total',
  help: 'Policy answers offered to the chat model (LLM_BASE_URL), by what was sent (llm or extractive) and why (ok, ungrounded, timeout, error, too_long, disabled)',
  labelNames: ['used', 'reason'],
  registers: [registry],
});
