/**
 * Staff accounts: passwords hashed with scrypt and a random salt, compared in constant time;
 * sessions are random tokens stored only as their SHA-256, and they expire. Logins are
 * throttled per account and per client address in the database (shared by every process),
 * a password change or a disabled account ends the account's sessions, and every login,
 * lockout and account change goes to the audit log. Admins change accounts in the console
 * (账号管理) under one rule: the bureau always keeps an enabled admin.
 */
import { StatusError } from '../status-error.ts';
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
  /** The unit of the organisation the person belongs to (the case desk's scope); none for systems. */
  unit?: string | null;
  displayName?: string | null;
  /** A system calling with the bearer token, not a person. */
  system?: boolean;
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
export const MIN_PASSWORD_LENGTH = 10;
/** Serialises the changes that could take the last enabled admin away (two admins disabling each other at once). */
const ADMIN_LOCK = 7_246_018;

/** A change refused: 400 bad input, 404 no such account, 409 it conflicts (exists, or would lock the bureau out). */
export class StaffError extends StatusError {}

/** Who makes a change, for the audit log: a staff username (with the address they came from) or "cli". */
export type Actor = string | { name: string; address?: string };
const who = (a: Actor) => (typeof a === 'string' ? { actor: a } : { actor: a.name, address: a.address });
const nameOf = (a: Actor) => (typeof a === 'string' ? a : a.name);

export function usernameProblem(username: string): string | null {
  return USERNAME.test(username) ? null : '用户名须为 2–40 个字母、数字、“_”、“.”或“-” (username: 2–40 letters, digits, "_", "." or "-")';
}

export function passwordProblem(password: string): string | null {
  return password.length >= MIN_PASSWORD_LENGTH ? null : `密码至少 ${MIN_PASSWORD_LENGTH} 个字符 (password: at least ${MIN_PASSWORD_LENGTH} characters)`;
}

/** Roles given as a list: at least one, each known (StaffError 400 in Chinese otherwise). */
export function checkRoles(roles: readonly string[]): StaffRole[] {
  const given = [...new Set(roles)];
  const unknown = given.filter((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  if (!given.length || unknown.length) {
    const known = STAFF_ROLES.map((r) => `${r}（${ROLE_NAMES[r]}）`).join('、');
    throw new StaffError(`${unknown.length ? `未知角色 ${unknown.slice(0, 5).map((r) => r.slice(0, 20)).join('、')}；` : '至少选择一个角色；'}可选：${known}`, 400);
  }
  return given as StaffRole[];
}

/** An account as an admin sees it. */
export interface StaffAccount {
  username: string;
  displayName: string | null;
  roles: StaffRole[];
  unit: string | null;
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

interface AccountRow {
  username: string;
  display_name: string | null;
  roles: StaffRole[];
  unit: string | null;
  disabled: boolean;
  created_at: Date | string;
  last_login_at: Date | string | null;
}
const ACCOUNT_COLUMNS = 'username, display_name, roles, unit, disabled, created_at, last_login_at';
const accountOf = (r: AccountRow): StaffAccount => ({
  username: r.username,
  displayName: r.display_name,
  roles: r.roles,
  unit: r.unit,
  disabled: r.disabled,
  createdAt: new Date(r.created_at).toISOString(),
  lastLoginAt: r.last_login_at == null ? null : new Date(r.last_login_at).toISOString(),
});

export async function listStaff(db: Queryable): Promise<StaffAccount[]> {
  const { rows } = await db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM staff_users ORDER BY username`);
  return rows.map(accountOf);
}

export async function getStaff(db: Queryable, username: string): Promise<StaffAccount | null> {
  const { rows } = await db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM staff_users WHERE username = $1`, [username]);
  return rows[0] ? accountOf(rows[0]) : null;
}

/** The unit and display name of an account; null clears one, undefined leaves it. */
export interface StaffDetails {
  unit?: string | null;
  displayName?: string | null;
}

/**
 * Adds a staff member, or sets a new password and role for an existing one (a password
 * change: their sessions end and their login lock is lifted). A disabled account stays disabled.
 * With onlyNew an existing account is refused (StaffError 409) and left as it is.
 */
export async function addStaff(
  db: Database,
  username: string,
  password: string,
  roles: StaffRole[],
  actor: Actor = 'cli',
  o: StaffDetails & { onlyNew?: boolean } = {},
): Promise<{ created: boolean; disabled: boolean }> {
  const problem = usernameProblem(username) ?? passwordProblem(password);
  if (problem) throw new StaffError(problem, 400);
  roles = checkRoles(roles);
  const hash = await hashPassword(password);
  const details = { ...(o.unit !== undefined ? { unit: o.unit } : {}), ...(o.displayName !== undefined ? { displayName: o.displayName } : {}) };
  return db.transaction(async (tx) => {
    const before = await tx.query<{ disabled: boolean }>('SELECT disabled FROM staff_users WHERE username = $1 FOR UPDATE', [username]);
    if (before.rows[0] && o.onlyNew) throw new StaffError(`账号 ${username} 已存在`, 409);
    const { rows } = await tx.query(
      `INSERT INTO staff_users (username, password_hash, roles, unit, display_name) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (username) DO ${
         o.onlyNew
           ? 'NOTHING'
           : `UPDATE SET password_hash = EXCLUDED.password_hash, roles = EXCLUDED.roles${o.unit !== undefined ? ', unit = EXCLUDED.unit' : ''}${o.displayName !== undefined ? ', display_name = EXCLUDED.display_name' : ''}`
       }
       RETURNING username`,
      [username, hash, roles, o.unit ?? null, o.displayName ?? null],
    );
    // Created by another request between the check and the insert.
    if (!rows[0]) throw new StaffError(`账号 ${username} 已存在`, 409);
    const created = !before.rows[0];
    const ended = created ? 0 : await endSessions(tx, username);
    await tx.query('DELETE FROM login_throttle WHERE key = $1', [accountKey(username)]);
    await appendAudit(tx, { ...who(actor), action: created ? 'staff.create' : 'staff.update', target: username, details: { roles, ...details, ...(created ? {} : { passwordChanged: true, sessionsEnded: ended }) } });
    return { created, disabled: before.rows[0]?.disabled ?? false };
  });
}

/** A new password for an account: its sessions end and its login lock is lifted. Null when there is no such account. */
export async function resetStaffPassword(db: Database, username: string, password: string, actor: Actor = 'cli'): Promise<{ sessionsEnded: number } | null> {
  const problem = passwordProblem(password);
  if (problem) throw new StaffError(problem, 400);
  const hash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query('UPDATE staff_users SET password_hash = $2 WHERE username = $1 RETURNING username', [username, hash]);
    if (!rows[0]) return null;
    const sessionsEnded = await endSessions(tx, username);
    await tx.query('DELETE FROM login_throttle WHERE key = $1', [accountKey(username)]);
    await appendAudit(tx, { ...who(actor), action: 'staff.password', target: username, details: { sessionsEnded } });
    return { sessionsEnded };
  });
}

/**
 * Takes the admin lock and refuses (409) a change that would leave the bureau without an
 * enabled admin: an admin taking their own admin role or account away, or the last enabled
 * admin losing either.
 */
async function keepAnAdmin(tx: Queryable, username: string, actor: Actor, what: 'role' | 'account'): Promise<void> {
  if (username === nameOf(actor)) {
    throw new StaffError(what === 'role' ? '不能取消自己的系统管理员角色，请由另一位系统管理员操作' : '不能停用自己的账号，请由另一位系统管理员操作', 409);
  }
  const { rows } = await tx.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM staff_users WHERE 'admin' = ANY(roles) AND NOT disabled AND username <> $1`,
    [username],
  );
  if (Number(rows[0]?.n ?? 0) === 0) {
    throw new StaffError(
      what === 'role' ? `${username} 是最后一个可用的系统管理员，不能取消其管理员角色；请先为另一个账号设置系统管理员` : `${username} 是最后一个可用的系统管理员，不能停用；请先为另一个账号设置系统管理员`,
      409,
    );
  }
}

/**
 * Changes an account's roles, unit or display name (what is undefined stays). Sessions go on
 * with the new roles at their next request. Refuses (409) to leave no enabled admin.
 */
export async function updateStaff(db: Database, username: string, change: { roles?: StaffRole[] } & StaffDetails, actor: Actor = 'cli'): Promise<StaffAccount> {
  const roles = change.roles === undefined ? undefined : checkRoles(change.roles);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_LOCK]);
    const { rows } = await tx.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM staff_users WHERE username = $1 FOR UPDATE`, [username]);
    const before = rows[0];
    if (!before) throw new StaffError(`没有账号 ${username}`, 404);
    if (roles && before.roles.includes('admin') && !roles.includes('admin') && !before.disabled) await keepAnAdmin(tx, username, actor, 'role');
    const after = await tx.query<AccountRow>(
      `UPDATE staff_users SET roles = $2, unit = $3, display_name = $4 WHERE username = $1 RETURNING ${ACCOUNT_COLUMNS}`,
      [username, roles ?? before.roles, change.unit === undefined ? before.unit : change.unit, change.displayName === undefined ? before.display_name : change.displayName],
    );
    const account = accountOf(after.rows[0]!);
    // What changed, and what it was.
    const details: Record<string, unknown> = {};
    const was: Record<string, unknown> = {};
    if (roles && roles.join() !== before.roles.join()) [details.roles, was.roles] = [roles, before.roles];
    if (change.unit !== undefined && change.unit !== before.unit) [details.unit, was.unit] = [change.unit, before.unit];
    if (change.displayName !== undefined && change.displayName !== before.display_name) [details.displayName, was.displayName] = [change.displayName, before.display_name];
    await appendAudit(tx, { ...who(actor), action: 'staff.update', target: username, details: { ...details, was } });
    return account;
  });
}

/**
 * Disables (ending every session) or re-enables an account; false when there is no such
 * account. With keepAdmin (a change made in the console) an admin cannot disable their own
 * account or the last enabled admin (StaffError 409).
 */
export async function setStaffDisabled(db: Database, username: string, disabled: boolean, actor: Actor = 'cli', o: { keepAdmin?: boolean } = {}): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (disabled && o.keepAdmin) {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_LOCK]);
      const { rows } = await tx.query<{ roles: StaffRole[]; disabled: boolean }>('SELECT roles, disabled FROM staff_users WHERE username = $1 FOR UPDATE', [username]);
      if (rows[0] && (username === nameOf(actor) || (rows[0].roles.includes('admin') && !rows[0].disabled))) await keepAnAdmin(tx, username, actor, 'account');
    }
    const { rows } = await tx.query('UPDATE staff_users SET disabled = $2 WHERE username = $1 RETURNING username', [username, disabled]);
    if (!rows[0]) return false;
    const ended = disabled ? await endSessions(tx, username) : 0;
    if (!disabled) await tx.query('DELETE FROM login_throttle WHERE key = $1', [accountKey(username)]);
    await appendAudit(tx, { ...who(actor), action: disabled ? 'staff.disable' : 'staff.enable', target: username, details: disabled ? { sessionsEnded: ended } : {} });
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
  await db.query('UPDATE staff_users SET last_login_at = $2 WHERE username = $1', [username, now.toISOString()]);
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
  const { rows } = await db.query<{ username: string; roles: StaffRole[]; unit: string | null; display_name: string | null; csrf_token: string }>(
    `SELECT u.username, u.roles, u.unit, u.display_name, s.csrf_token FROM staff_sessions s JOIN staff_users u ON u.username = s.username
     WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled`,
    [digest(token)],
  );
  const r = rows[0];
  return r ? { username: r.username, roles: r.roles, unit: r.unit, displayName: r.display_name, csrfToken: r.csrf_token } : null;
}

export async function sessionUser(db: Database, token: string): Promise<StaffUser | null> {
  const s = await sessionOf(db, token);
  return s ? { username: s.username, roles: s.roles, unit: s.unit ?? null } : null;
}

/** Ends a session; the username it belonged to, if it was live. */
export async function logout(db: Database, token: string): Promise<string | null> {
  const { rows } = await db.query<{ username: string }>('DELETE FROM staff_sessions WHERE token_hash = $1 RETURNING username', [digest(token)]);
  return rows[0]?.username ?? null;
}
