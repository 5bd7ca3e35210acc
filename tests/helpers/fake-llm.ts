/**
 * A local OpenAI-compatible chat model: a real HTTP server on 127.0.0.1 (ephemeral port)
 * answering POST /v1/chat/completions with real chat.completion JSON, scripted per request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeLlmStep =
  /** A chat.completion with this text, after delayMs (headers included: a slow model). */
  | { reply: string; delayMs?: number }
  /** An HTTP error. */
  | { status: number; body?: string }
  /** A 200 whose body is not JSON. */
  | { malformed: true }
  /** A 200 with an empty choices array. */
  | { noChoices: true };

export interface FakeLlmRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: {
    model: string;
    messages: Array<{ role: string; content: string }>;
    temperature?: number;
    max_tokens?: number;
    [k: string]: unknown;
  };
}

export interface FakeLlm {
  /** Base URL as LLM_BASE_URL would be set, e.g. http://127.0.0.1:41234/v1. */
  baseUrl: string;
  requests: FakeLlmRequest[];
  /** Steps for the next requests, in order; after them, `fallback` answers. */
  script(...steps: FakeLlmStep[]): void;
  /** Answers a request no scripted step is left for (default: HTTP 500). */
  fallback: (req: FakeLlmRequest) => FakeLlmStep;
  reset(): void;
  close(): Promise<void>;
}

function completion(model: string, content: string) {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 100, completion_tokens: 30, total_tokens: 130 },
  };
}

export async function startFakeLlm(): Promise<FakeLlm> {
  const queue: FakeLlmStep[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const fake: FakeLlm = {
    baseUrl: '',
    requests: [],
    script: (...steps) => void queue.push(...steps),
    fallback: () => ({ status: 500, body: '{"error":{"message":"no scripted reply"}}' }),
    reset() {
      queue.length = 0;
      fake.requests.length = 0;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      let body: FakeLlmRequest['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
        return;
      }
      const recorded: FakeLlmRequest = { path: req.url, headers: req.headers, body };
      fake.requests.push(recorded);
      const step = queue.shift() ?? fake.fallback(recorded);
      const send = () => {
        if (res.destroyed) return;
        if ('reply' in step) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(body.model, step.reply)));
        else if ('status' in step) res.writeHead(step.status, { 'content-type': 'application/json' }).end(step.body ?? '{"error":{"message":"internal error"}}');
        else if ('malformed' in step) res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"chatcmpl-1","choices":[{"message":');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...completion(body.model, ''), choices: [] }));
      };
      const delay = 'reply' in step ? (step.delayMs ?? 0) : 0;
      if (!delay) return send();
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, delay);
      timers.add(t);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
