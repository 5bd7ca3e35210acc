/**
 * Staff accounts: passwords hashed with scrypt and a random salt, compared in constant time;
 * sessions are random tokens stored only as their SHA-256, and they expire. Logins are
 * throttled per account and per client address in the database (shared by every process),
 * a password change or a disabled account ends the account's sessions, and every login,
 * lockout and account change goes to the audit log.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { appendAudit } from './audit.ts';
import type { Database, Queryable } from './database.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const KEY_LENGTH = 32;

/**
 * agent: 网办中心 online-service staff (the live inbox); hotline: 热线 staff (the assistant);
 * handler: case handlers of a unit; editor: knowledge editors; supervisor: 督办 and the
 * dashboard; admin: staff accounts. A person may hold several.
 */
export const STAFF_ROLES = ['agent', 'hotline', 'handler', 'editor', 'supervisor', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
export const ROLE_NAMES: Record<StaffRole, string> = {
  agent: '网办客服',
  hotline: '热线坐席',
  handler: '办理人员',
  editor: '知识编辑',
  supervisor: '督办人员',
  admin: '系统管理员',
};
export interface StaffUser {
  username: string;
  roles: StaffRole[];
}

/** Roles from a list such as "agent,hotline"; throws naming the unknown ones. */
export function parseRoles(text: string): StaffRole[] {
  const given = [...new Set(text.split(/[,\s，、]+/).filter(Boolean))];
  const unknown = given.filter((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  if (!given.length || unknown.length) throw new Error(`role: one or more of ${STAFF_ROLES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
  return given as StaffRole[];
}
export interface StaffSession extends StaffUser {
  csrfToken: string;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const want = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), want.length);
  return timingSafeEqual(got, want);
}

const USERNAME = /^[\w.-]{2,40}$/;

/**
 * Adds a staff member, or sets a new password and role for an existing one (a password
 * change: their sessions end and their login lock is lifted). A disabled account stays disabled.
 */
export async function addStaff(db: Database, username: string, password: string, roles: StaffRole[], actor = 'cli'): Promise<{ created: boolean; disabled: boolean }> {
  if (!USERNAME.test(username)) throw new Error('username: 2–40 letters, digits, "_", "." or "-"');
  if (password.length < 10) throw new Error('password: at least 10 characters');
  roles = parseRoles(roles.join(','));
  const hash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const before = await tx.query<{ disabled: boolean }>('SELECT disabled FROM staff_users WHERE username = $1 FOR UPDATE', [username]);
    await tx.query(
      `INSERT INTO staff_users (username, password_hash, roles) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, roles = EXCLUDED.roles`,
      [username, hash, roles],
    );
    const created = !before.rows[0];
    const ended = created ? 0 : await endSessions(tx, username);
    await tx.query('DELETE FROM login_throttle WHERE key = $1', [accountKey(username)]);
    await appendAudit(tx, { actor, action: created ? 'staff.create' : 'staff.update', target: username, details: { roles, ...(created ? {} : { passwordChanged: true, sessionsEnded: ended }) } });
    return { created, disabled: before.rows[0]?.disabled ?? false };
  });
}

/** Disables (ending every session) or re-enables an account; false when there is no such account. */
export async function setStaffDisabled(db: Database, username: string, disabled: boolean, actor = 'cli'): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query('UPDATE staff_users SET disabled = $2 WHERE username = $1 RETURNING username', [username, disabled]);
    if (!rows[0]) return false;
    const ended = disabled ? await endSessions(tx, username) : 0;
    if (!disabled) await tx.query('DELETE FROM login_throttle WHERE key = $1', [accountKey(username)]);
    await appendAudit(tx, { actor, action: disabled ? 'staff.disable' : 'staff.enable', target: username, details: disabled ? { sessionsEnded: ended } : {} });
    return true;
  });
}

async function endSessions(tx: Queryable, username: string): Promise<number> {
  const { rows } = await tx.query('DELETE FROM staff_sessions WHERE username = $1 RETURNING token_hash', [username]);
  return rows.length;
}

// ---- Login throttling -------------------------------------------------------------------

export interface ThrottleLimits {
  /** From this many failures on, each further one makes the next attempt wait. */
  delayAfter: number;
  /** From this many failures on, each further one locks for lockSeconds. */
  lockAfter: number;
}

export const THROTTLE = {
  account: { delayAfter: 5, lockAfter: 10 } as ThrottleLimits,
  // Several staff may share one office address, so it takes more failures to slow it down.
  address: { delayAfter: 10, lockAfter: 20 } as ThrottleLimits,
  maxDelaySeconds: 60,
  lockSeconds: 15 * 60,
  /** A key with no failure for this long starts again from zero. */
  forgetHours: 24,
};

/** Seconds to wait after the n-th failure: none, then 2, 4, 8, … (at most a minute), then the lock. */
export function throttleDelay(failures: number, l: ThrottleLimits): number {
  if (failures >= l.lockAfter) return THROTTLE.lockSeconds;
  if (failures >= l.delayAfter) return Math.min(2 ** (failures - l.delayAfter + 1), THROTTLE.maxDelaySeconds);
  return 0;
}

const accountKey = (username: string) => `user:${username.slice(0, 100)}`;
const addressKey = (address: string) => `ip:${address.slice(0, 100)}`;

type Attempt = { blocked: false; failures: number; blockedUntil: Date } | { blocked: true; until: Date };

/**
 * Counts one attempt on a key unless the key is blocked — in one statement, so parallel
 * attempts cannot all pass the check before any failure is recorded. The attempt's own
 * delay (as if it fails) is set at once; a success takes it back.
 */
async function countAttempt(db: Queryable, key: string, l: ThrottleLimits, now: Date): Promise<Attempt> {
  const at = now.toISOString();
  const forget = new Date(now.getTime() - THROTTLE.forgetHours * 3_600_000).toISOString();
  await db.query('INSERT INTO login_throttle (key, failures, last_failure_at) VALUES ($1, 0, $2) ON CONFLICT (key) DO NOTHING', [key, at]);
  const n = '(CASE WHEN t.last_failure_at < $3::timestamptz THEN 1 ELSE t.failures + 1 END)';
  const delay = `(CASE WHEN ${n} >= $5::int THEN $7::int WHEN ${n} >= $4::int THEN LEAST(power(2, ${n} - $4::int + 1), $6::int) ELSE 0 END)`;
  const { rows } = await db.query<{ failures: number; blocked_until: Date | string }>(
    `UPDATE login_throttle t SET failures = ${n}, last_failure_at = $2::timestamptz,
       blocked_until = $2::timestamptz + make_interval(secs => ${delay})
     WHERE t.key = $1 AND (t.blocked_until IS NULL OR t.blocked_until <= $2::timestamptz)
     RETURNING t.failures, t.blocked_until`,
    [key, at, forget, l.delayAfter, l.lockAfter, THROTTLE.maxDelaySeconds, THROTTLE.lockSeconds],
  );
  if (rows[0]) return { blocked: false, failures: Number(rows[0].failures), blockedUntil: new Date(rows[0].blocked_until) };
  const held = await db.query<{ blocked_until: Date | string }>('SELECT blocked_until FROM login_throttle WHERE key = $1', [key]);
  return { blocked: true, until: new Date(held.rows[0]?.blocked_until ?? now) };
}

/** Takes back an attempt that turned out not to be a failure (its delay too, unless a later attempt replaced it). */
async function uncount(db: Queryable, key: string, a: Attempt): Promise<void> {
  if (a.blocked) return;
  await db.query(
    `UPDATE login_throttle SET failures = GREATEST(failures - 1, 0),
       blocked_until = CASE WHEN blocked_until = $2::timestamptz THEN NULL ELSE blocked_until END
     WHERE key = $1`,
    [key, a.blockedUntil.toISOString()],
  );
}

// ---- Login and sessions -----------------------------------------------------------------

export type LoginResult =
  | { ok: true; token: string; session: StaffSession }
  /** Wrong user, password or a disabled account (one answer for all); wait > 0 when the next attempt must wait. */
  | { ok: false; reason: 'invalid'; waitSeconds: number }
  /** Refused without checking the password: too many failures. */
  | { ok: false; reason: 'throttled'; waitSeconds: number };

export interface LoginOptions {
  /** The client address (req.ip), throttled alongside the account and written to the audit log. */
  address?: string;
  /** The clock, for tests. */
  now?: Date;
}

const DUMMY_HASH = 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const secondsUntil = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));

/** Checks credentials under the throttle; a session token on success. */
export async function login(db: Database, username: string, password: string, ttlHours: number, o: LoginOptions = {}): Promise<LoginResult> {
  const now = o.now ?? new Date();
  const address = o.address ?? 'unknown';
  // A name no account could have may be a password typed in the wrong box: it is not logged.
  const actor = USERNAME.test(username) ? username : '(invalid username)';
  const audit = (outcome: 'ok' | 'failed' | 'denied', details: Record<string, unknown>) => appendAudit(db, { actor, action: 'login', address, outcome, details });

  const account = await countAttempt(db, accountKey(username), THROTTLE.account, now);
  const from = account.blocked ? account : await countAttempt(db, addressKey(address), THROTTLE.address, now);
  if (account.blocked || from.blocked) {
    if (!account.blocked) await uncount(db, accountKey(username), account);
    const until = account.blocked ? account.until : (from as { until: Date }).until;
    const waitSeconds = secondsUntil(until, now);
    await audit('denied', { reason: 'throttled', by: account.blocked ? 'account' : 'address', waitSeconds });
    return { ok: false, reason: 'throttled', waitSeconds };
  }
  const ip = from;

  const { rows } = await db.query<{ password_hash: string; roles: StaffRole[]; disabled: boolean }>('SELECT password_hash, roles, disabled FROM staff_users WHERE username = $1', [username]);
  const user = rows[0];
  // Hash anyway when the user is unknown, so timing does not tell which part was wrong.
  const passwordOk = await checkPassword(password, user?.password_hash ?? DUMMY_HASH);
  if (!user || !passwordOk || user.disabled) {
    await audit('failed', { reason: !user ? 'unknown user' : !passwordOk ? 'wrong password' : 'disabled', failures: account.failures });
    for (const [key, a, limits] of [[accountKey(username), account, THROTTLE.account], [addressKey(address), ip, THROTTLE.address]] as const) {
      if (a.failures >= limits.lockAfter) {
        await appendAudit(db, { actor, action: 'login.lock', target: key === accountKey(username) ? `user:${actor}` : key, address, details: { failures: a.failures, minutes: THROTTLE.lockSeconds / 60 } });
      }
    }
    const wait = Math.max(throttleDelay(account.failures, THROTTLE.account), throttleDelay(ip.failures, THROTTLE.address));
    return { ok: false, reason: 'invalid', waitSeconds: wait };
  }

  // A success clears the account's count; the address keeps its earlier failures.
  await db.query('DELETE FROM login_throttle WHERE key = $1', [accountKey(username)]);
  await uncount(db, addressKey(address), ip);
  const forget = new Date(now.getTime() - THROTTLE.forgetHours * 3_600_000).toISOString();
  await db.query('DELETE FROM login_throttle WHERE last_failure_at < $1 AND (blocked_until IS NULL OR blocked_until <= $2)', [forget, now.toISOString()]);

  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  await db.query('DELETE FROM staff_sessions WHERE expires_at < $1', [now.toISOString()]);
  await db.query('INSERT INTO staff_sessions (token_hash, username, expires_at, csrf_token) VALUES ($1, $2, $3, $4)', [
    digest(token),
    username,
    new Date(now.getTime() + ttlHours * 3_600_000).toISOString(),
    csrfToken,
  ]);
  await audit('ok', { roles: user.roles });
  return { ok: true, token, session: { username, roles: user.roles, csrfToken } };
}

/** The live session of a token: not expired, and its account not disabled. */
export async function sessionOf(db: Database, token: string): Promise<StaffSession | null> {
  const { rows } = await db.query<{ username: string; roles: StaffRole[]; csrf_token: string }>(
    `SELECT u.username, u.roles, s.csrf_token FROM staff_sessions s JOIN staff_users u ON u.username = s.username
     WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled`,
    [digest(token)],
  );
  const r = rows[0];
  return r ? { username: r.username, roles: r.roles, csrfToken: r.csrf_token } : null;
}

export async function sessionUser(db: Database, token: string): Promise<StaffUser | null> {
  const s = await sessionOf(db, token);
  return s ? { username: s.username, roles: s.roles } : null;
}

/** Ends a session; the username it belonged to, if it was live. */
export async function logout(db: Database, token: string): Promise<string | null> {
  const { rows } = await db.query<{ username: string }>('DELETE FROM staff_sessions WHERE token_hash = $1 RETURNING username', [digest(token)]);
  return rows[0]?.username ?? null;
}
