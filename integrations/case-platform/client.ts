/**
 * Client for an external case platform (openapi.yaml): bearer key, a timeout per attempt,
 * retries with exponential backoff and jitter on network errors, 429 and 5xx, and an
 * Idempotency-Key on case creation so a retry never makes a second case. Timeout and
 * retries are defaults that each call may override (a first try in a chat turn must be short).
 */
import type { Case, NewCase, Rating } from './types.ts';

/** Per call: how long one attempt may take, and how many more attempts follow a retryable failure. */
export interface CallOptions {
  timeoutMs?: number;
  retries?: number;
}

export interface CasePlatformOptions extends CallOptions {
  baseUrl: string;
  apiKey: string;
  /** First backoff; doubles each retry (with jitter). */
  backoffMs?: number;
}

export class CasePlatformError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when the platform could not be reached. */
    readonly status: number,
    /** Whether trying again later may succeed (network, timeout, 429, 5xx). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'CasePlatformError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CasePlatformClient {
  private readonly base: string;
  constructor(private readonly o: CasePlatformOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  createCase(c: NewCase, idempotencyKey: string, o: CallOptions = {}): Promise<Case> {
    return this.request<Case>('POST', '/cases', o, c, { 'idempotency-key': idempotencyKey });
  }

  getCase(id: string, o: CallOptions = {}): Promise<Case> {
    return this.request<Case>('GET', `/cases/${encodeURIComponent(id)}`, o);
  }

  async listCases(citizenId: string, o: CallOptions = {}): Promise<Case[]> {
    return (await this.request<{ cases: Case[] }>('GET', `/cases?citizenId=${encodeURIComponent(citizenId)}`, o)).cases;
  }

  postFeedback(id: string, f: { round: number; rating: Rating; comment?: string }, o: CallOptions = {}): Promise<Case> {
    return this.request<Case>('POST', `/cases/${encodeURIComponent(id)}/feedback`, o, f);
  }

  escalate(id: string, e: { level: 2 | 3; reason: string }, o: CallOptions = {}): Promise<Case> {
    return this.request<Case>('POST', `/cases/${encodeURIComponent(id)}/escalate`, o, e);
  }

  private async request<T>(method: string, path: string, o: CallOptions, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const retries = o.retries ?? this.o.retries ?? 3;
    const timeoutMs = o.timeoutMs ?? this.o.timeoutMs ?? 5000;
    const backoff = this.o.backoffMs ?? 200;
    let last: CasePlatformError | null = null;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoff * 2 ** (attempt - 1) * (0.75 + Math.random() / 2));
      try {
        return await this.once<T>(method, path, timeoutMs, body, headers);
      } catch (e) {
        last = e instanceof CasePlatformError ? e : new CasePlatformError(`case platform unreachable: ${(e as Error).message}`, 0, true);
        if (!last.retryable) throw last;
      }
    }
    throw last!;
  }

  private async once<T>(method: string, path: string, timeoutMs: number, body: unknown, headers: Record<string, string>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.o.apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = (e as Error).name === 'TimeoutError';
      throw new CasePlatformError(timedOut ? 'case platform timed out' : `case platform unreachable: ${(e as Error).message}`, 0, true);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new CasePlatformError(`case platform answered ${res.status}: ${message}`, res.status, res.status === 429 || res.status >= 500);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CasePlatformError('case platform answered with something that is not JSON', res.status, false);
    }
  }
}
