/**
 * Who a web-chat citizen is: a server-issued session, never an id the client names. The
 * token is random (256 bits), sent only in an HttpOnly cookie and stored as its SHA-256.
 * A trusted integration (a mini-program backend, a test harness) may name its own
 * citizens with `Authorization: Bearer $CHAT_API_TOKEN`; they live in channel "api".
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Database } from '../store/database.ts';
import { cookie } from './cookies.ts';
import { wellFormed } from '../storable-text.ts';

export const CITIZEN_COOKIE = 'xiaoan_sid';
export const WEB_CHANNEL = 'web';
export const API_CHANNEL = 'api';
const MAX_AGE_DAYS = 30;
/** last_seen_at is refreshed at most this often: a turn does not cost a write for it. */
const TOUCH_MS = 3_600_000;

export interface Citizen {
  channel: string;
  userId: string;
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

function bearerMatches(req: Request, token: string | undefined): boolean | null {
  const auth = req.get('authorization');
  if (!auth) return null;
  if (!token) return false;
  const given = Buffer.from(auth.replace(/^Bearer\s+/i, ''));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export class CitizenSessions {
  constructor(
    private readonly db: Database,
    private readonly chatApiToken: string | undefined,
  ) {}

  /**
   * Middleware: sets res.locals.citizen. With the integration token, the userId comes from
   * the body or query (channel "api"); otherwise from the session cookie, which the first
   * response sets. A userId without the token is refused: naming a citizen is not allowed.
   */
  identify() {
    return (req: Request, res: Response, next: NextFunction) => {
      const named = (req.body as { userId?: unknown } | undefined)?.userId ?? req.query.userId;
      const bearer = bearerMatches(req, this.chatApiToken);
      if (bearer === false) return void res.status(401).json({ error: '接口令牌无效 (invalid integration token)' });
      if (bearer) {
        if (typeof named !== 'string' || !named.trim()) return void res.status(400).json({ error: '缺少 userId (userId is required)' });
        if (named.length > 128) return void res.status(400).json({ error: 'userId 过长 (at most 128 characters)' });
        if (!wellFormed(named)) return void res.status(400).json({ error: 'userId 含有无效字符 (control characters or broken Unicode)' });
        res.locals.citizen = { channel: API_CHANNEL, userId: named.trim().normalize('NFC') } satisfies Citizen;
        return next();
      }
      if (named !== undefined) {
        return void res.status(400).json({ error: '请勿指定 userId：网页对话的身份由服务器会话确定 (userId is set by the server session)' });
      }
      this.fromCookie(req, res).then((citizen) => {
        res.locals.citizen = citizen;
        next();
      }, next);
    };
  }

  private async fromCookie(req: Request, res: Response): Promise<Citizen> {
    const token = cookie(req, CITIZEN_COOKIE);
    if (token && /^[\w-]{43}$/.test(token)) {
      const { rows } = await this.db.query<{ user_id: string; last_seen_at: Date | string }>('SELECT user_id, last_seen_at FROM citizen_sessions WHERE token_hash = $1', [
        digest(token),
      ]);
      const row = rows[0];
      if (row && Date.now() - new Date(row.last_seen_at).getTime() < MAX_AGE_DAYS * 86_400_000) {
        if (Date.now() - new Date(row.last_seen_at).getTime() > TOUCH_MS) {
          await this.db.query('UPDATE citizen_sessions SET last_seen_at = now() WHERE token_hash = $1', [digest(token)]);
          this.setCookie(req, res, token);
        }
        return { channel: WEB_CHANNEL, userId: row.user_id };
      }
    }
    const fresh = randomBytes(32).toString('base64url');
    const userId = `w-${randomBytes(12).toString('base64url')}`;
    await this.db.query('INSERT INTO citizen_sessions (token_hash, user_id) VALUES ($1, $2)', [digest(fresh), userId]);
    this.setCookie(req, res, fresh);
    return { channel: WEB_CHANNEL, userId };
  }

  private setCookie(req: Request, res: Response, token: string): void {
    // Secure only over HTTPS; behind a proxy req.secure reads X-Forwarded-Proto only with TRUST_PROXY.
    res.append('set-cookie', `${CITIZEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${MAX_AGE_DAYS * 86_400}${req.secure ? '; Secure' : ''}`);
  }
}
