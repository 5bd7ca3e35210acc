/**
 * The WeCom server API for 微信客服 (our own client: there is no official npm package).
 * The access token is cached in the store and shared, refreshed before it expires and once
 * more on 40014 / 42001; 5xx and 45009 are retried with backoff; 95001 / 95002 / 95018 and
 * other refusals are returned as WecomApiError for the caller to record, not retried.
 */
import { wecomApiErrors } from '../../bot/metrics.ts';
import type { Database } from '../../bot/store/database.ts';

export class WecomApiError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    readonly path: string,
  ) {
    super(`WeCom ${path} failed: ${errcode} ${errmsg}`);
    this.name = 'WecomApiError';
  }
}

export interface WecomClientOptions {
  apiBase: string;
  corpId: string;
  secret: string;
  db: Database;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
  now?: () => Date;
}

/** Every failed attempt is counted, retried ones too: an operator sees 45009 storms and stale tokens. */
function failed(errcode: number, errmsg: string, path: string): WecomApiError {
  wecomApiErrors.inc({ errcode: String(errcode) });
  return new WecomApiError(errcode, errmsg, path);
}

/** Refresh this long before the token's own expiry. */
const EARLY_MS = 5 * 60_000;
const TOKEN_ERRORS = new Set([40014, 42001]);
const RETRY_ERRORS = new Set([45009, -1]);

export interface SyncResult {
  next_cursor?: string;
  has_more?: number;
  msg_list?: Array<Record<string, unknown>>;
}

export class WecomClient {
  private inflight: Promise<string> | null = null;

  constructor(private readonly o: WecomClientOptions) {}

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  /** The cached token, or a new one (one gettoken at a time per process). */
  async accessToken(force = false): Promise<string> {
    if (!force) {
      const { rows } = await this.o.db.query<{ token: string; expires_at: Date | string }>('SELECT token, expires_at FROM wecom_tokens WHERE corp_id = $1', [this.o.corpId]);
      const row = rows[0];
      if (row && new Date(row.expires_at).getTime() - EARLY_MS > this.now().getTime()) return row.token;
    }
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const url = `${this.o.apiBase}/cgi-bin/gettoken?corpid=${encodeURIComponent(this.o.corpId)}&corpsecret=${encodeURIComponent(this.o.secret)}`;
    const body = await this.http('GET', url, undefined, '/cgi-bin/gettoken');
    const token = String(body.access_token ?? '');
    const expiresIn = Number(body.expires_in ?? 7200);
    if (!token) throw new WecomApiError(-1, 'gettoken returned no access_token', '/cgi-bin/gettoken');
    await this.o.db.query(
      `INSERT INTO wecom_tokens (corp_id, token, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (corp_id) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at, updated_at = now()`,
      [this.o.corpId, token, new Date(this.now().getTime() + expiresIn * 1000).toISOString()],
    );
    return token;
  }

  /** POSTs to an API path with the access token, refreshing it once when WeCom says it is stale. */
  async call<T extends Record<string, unknown>>(path: string, payload: unknown): Promise<T> {
    let token = await this.accessToken();
    for (let refreshed = false; ; refreshed = true) {
      try {
        return (await this.http('POST', `${this.o.apiBase}${path}?access_token=${encodeURIComponent(token)}`, payload, path)) as T;
      } catch (e) {
        if (!refreshed && e instanceof WecomApiError && TOKEN_ERRORS.has(e.errcode)) {
          token = await this.accessToken(true);
          continue;
        }
        throw e;
      }
    }
  }

  syncMsg(p: { cursor?: string; token?: string; open_kfid: string; limit?: number }): Promise<SyncResult> {
    return this.call('/cgi-bin/kf/sync_msg', { limit: 1000, ...p });
  }

  sendMsg(p: Record<string, unknown>): Promise<{ msgid?: string }> {
    return this.call('/cgi-bin/kf/send_msg', p);
  }

  sendMsgOnEvent(p: Record<string, unknown>): Promise<{ msgid?: string }> {
    return this.call('/cgi-bin/kf/send_msg_on_event', p);
  }

  getServiceState(openKfId: string, externalUserId: string): Promise<{ service_state: number; servicer_userid?: string }> {
    return this.call('/cgi-bin/kf/service_state/get', { open_kfid: openKfId, external_userid: externalUserId });
  }

  transServiceState(p: { open_kfid: string; external_userid: string; service_state: number; servicer_userid?: string }): Promise<Record<string, unknown>> {
    return this.call('/cgi-bin/kf/service_state/trans', p);
  }

  /** An internal app message to staff (a hand-over summary). */
  sendAppMessage(p: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.call('/cgi-bin/message/send', p);
  }

  private async http(method: string, url: string, payload: unknown, path: string): Promise<Record<string, unknown>> {
    const retries = this.o.retries ?? 3;
    let last: Error | null = null;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 200) * 2 ** (attempt - 1)));
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: payload === undefined ? {} : { 'content-type': 'application/json' },
          body: payload === undefined ? undefined : JSON.stringify(payload),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
        });
      } catch (e) {
        last = failed(-1, `unreachable: ${(e as Error).message}`, path);
        continue;
      }
      if (res.status >= 500) {
        last = failed(-1, `HTTP ${res.status}`, path);
        continue;
      }
      const body = (await res.json().catch(() => ({ errcode: -1, errmsg: 'not JSON' }))) as Record<string, unknown>;
      const errcode = Number(body.errcode ?? 0);
      if (errcode === 0) return body;
      const err = failed(errcode, String(body.errmsg ?? ''), path);
      if (!RETRY_ERRORS.has(errcode)) throw err;
      last = err;
    }
    throw last!;
  }
}
