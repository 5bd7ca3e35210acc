/**
 * Staff accounts: passwords hashed with scrypt and a random salt, compared in constant time;
 * sessions are random tokens stored only as their SHA-256, and they expire.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Database } from './database.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const KEY_LENGTH = 32;

export type StaffRole = 'handler' | 'supervisor';
export interface StaffUser {
  username: string;
  role: StaffRole;
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

export async function addStaff(db: Database, username: string, password: string, role: StaffRole): Promise<void> {
  if (!/^[\w.-]{2,40}$/.test(username)) throw new Error('username: 2–40 letters, digits, "_", "." or "-"');
  if (password.length < 10) throw new Error('password: at least 10 characters');
  await db.query(
    `INSERT INTO staff_users (username, password_hash, role) VALUES ($1, $2, $3)
     ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role`,
    [username, await hashPassword(password), role],
  );
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** A session token for valid credentials, or null (the same answer for a wrong user or password). */
export async function login(db: Database, username: string, password: string, ttlHours: number): Promise<{ token: string; user: StaffUser } | null> {
  const { rows } = await db.query<{ password_hash: string; role: StaffRole }>('SELECT password_hash, role FROM staff_users WHERE username = $1', [username]);
  // Hash anyway when the user is unknown, so timing does not tell which part was wrong.
  const ok = await checkPassword(password, rows[0]?.password_hash ?? 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
  if (!rows[0] || !ok) return null;
  const token = randomBytes(32).toString('base64url');
  await db.query('DELETE FROM staff_sessions WHERE expires_at < now()');
  await db.query('INSERT INTO staff_sessions (token_hash, username, expires_at) VALUES ($1, $2, $3)', [
    digest(token),
    username,
    new Date(Date.now() + ttlHours * 3_600_000).toISOString(),
  ]);
  return { token, user: { username, role: rows[0].role } };
}

export async function sessionUser(db: Database, token: string): Promise<StaffUser | null> {
  const { rows } = await db.query<StaffUser>(
    `SELECT u.username, u.role FROM staff_sessions s JOIN staff_users u ON u.username = s.username
     WHERE s.token_hash = $1 AND s.expires_at > now()`,
    [digest(token)],
  );
  return rows[0] ?? null;
}

export async function logout(db: Database, token: string): Promise<void> {
  await db.query('DELETE FROM staff_sessions WHERE token_hash = $1', [digest(token)]);
}
