/**
 * `xiaoan staff …` and `xiaoan kb export|import` beside a running server on embedded PGlite,
 * which admits one process per DATA_DIR: the command asks the server to do it. The server
 * writes DATA_DIR/control.json (its address, its pid and a random token; mode 0600, so only
 * the account that runs 小安 can read it) and takes the command on POST /local/staff or
 * /local/kb, from this machine only, with that token. The work is the same function the CLI
 * runs on the database itself (staff changes audited as `cli`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import type { Database } from '../store/database.ts';
import { draftFromFiles, getRelease, currentRelease, type KbFiles } from '../../knowledge-base/releases.ts';
import { addStaff, checkRoles, setStaffDisabled, StaffError, type StaffRole } from '../store/staff.ts';
import { sameToken } from './staff-routes.ts';

export type StaffCommand =
  | { op: 'add'; username: string; password: string; roles: StaffRole[]; unit?: string; displayName?: string }
  | { op: 'disable' | 'enable'; username: string };

export type StaffCommandResult = { op: 'add'; created: boolean; disabled: boolean } | { op: 'disable' | 'enable'; found: boolean };

export async function runStaffCommand(db: Database, c: StaffCommand): Promise<StaffCommandResult> {
  if (c.op === 'add') {
    const details = { ...(c.unit !== undefined ? { unit: c.unit } : {}), ...(c.displayName !== undefined ? { displayName: c.displayName } : {}) };
    return { op: 'add', ...(await addStaff(db, c.username, c.password, checkRoles(c.roles), 'cli', details)) };
  }
  return { op: c.op, found: await setStaffDisabled(db, c.username, c.op === 'disable', 'cli') };
}

interface ControlFile {
  url: string;
  pid: number;
  token: string;
}

export const controlFile = (dataDir: string) => path.join(dataDir, 'control.json');

export function newControlToken(): string {
  return randomBytes(32).toString('base64url');
}

export function writeControlFile(dataDir: string, c: ControlFile): void {
  writeFileSync(controlFile(dataDir), JSON.stringify(c), { mode: 0o600 });
}

export function removeControlFile(dataDir: string, token: string): void {
  // Only our own: a newer server on the same folder may have written its file since.
  try {
    const c = JSON.parse(readFileSync(controlFile(dataDir), 'utf8')) as ControlFile;
    if (c.token === token) rmSync(controlFile(dataDir), { force: true });
  } catch {
    // None, or unreadable: nothing of ours to remove.
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export type KbCommand = { op: 'export'; release?: number } | { op: 'import'; files: KbFiles; keepLexicon: boolean; by: string; note?: string };

export async function runKbCommand(db: Database, c: KbCommand) {
  if (c.op === 'export') return { release: c.release === undefined ? await currentRelease(db, { files: true }) : await getRelease(db, c.release, { files: true }) };
  return draftFromFiles(db, c.files, c);
}

export function localControlRoutes(db: Database, token: string, knownUnit: (id: string) => boolean): Router {
  const router = Router();
  const local = (req: express.Request, res: express.Response): boolean => {
    res.setHeader('cache-control', 'no-store');
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '') || !sameToken((req.get('authorization') ?? '').replace(/^Bearer\s+/i, ''), token)) {
      res.status(403).json({ error: 'local control only, with the token of DATA_DIR/control.json' });
      return false;
    }
    return true;
  };
  const str = (v: unknown) => typeof v === 'string';
  router.post('/local/staff', express.json({ limit: '8kb' }), async (req, res) => {
    if (!local(req, res)) return;
    const c = req.body as Partial<StaffCommand> & Record<string, unknown>;
    const valid =
      c && str(c.username) &&
      (c.op === 'disable' || c.op === 'enable' ||
        (c.op === 'add' && str(c.password) && Array.isArray(c.roles) && (c.unit === undefined || str(c.unit)) && (c.displayName === undefined || str(c.displayName))));
    if (!valid) return void res.status(400).json({ error: 'a staff command: {op: add, username, password, roles, unit?, displayName?} or {op: disable|enable, username}' });
    if (c.op === 'add' && c.unit && !knownUnit(c.unit as string)) return void res.status(400).json({ error: `unknown unit "${String(c.unit)}"` });
    try {
      res.json(await runStaffCommand(db, c as StaffCommand));
    } catch (e) {
      if (e instanceof StaffError) return void res.status(e.status).json({ error: e.message });
      throw e;
    }
  });
  router.post('/local/kb', express.json({ limit: '20mb' }), async (req, res) => {
    if (!local(req, res)) return;
    const c = req.body as Partial<KbCommand> & Record<string, unknown>;
    const files = c?.files as unknown;
    const valid =
      c?.op === 'export'
        ? c.release === undefined || Number.isSafeInteger(c.release)
        : c?.op === 'import' && str(c.by) && typeof c.keepLexicon === 'boolean' && (c.note === undefined || str(c.note)) &&
          !!files && typeof files === 'object' && Object.entries(files).every(([k, v]) => /^(guides|lexicon)\/[^/]+$/.test(k) && str(v));
    if (!valid) return void res.status(400).json({ error: 'a kb command: {op: export, release?} or {op: import, files, keepLexicon, by, note?}' });
    res.json(await runKbCommand(db, c as KbCommand));
  });
  return router;
}

/** Whether a process of this pid is alive (a control file left by a crash is not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Sends the command to the server running on DATA_DIR (`route` staff or kb); null when there
 * is none to ask (no control file, or its process is gone). Throws the server's refusal as an Error.
 */
export async function viaRunningServer<T>(dataDir: string, route: 'staff' | 'kb', c: unknown): Promise<T | null> {
  let control: ControlFile;
  try {
    control = JSON.parse(readFileSync(controlFile(dataDir), 'utf8')) as ControlFile;
  } catch {
    return null;
  }
  if (!alive(control.pid)) return null;
  const res = await fetch(`${control.url}/local/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${control.token}` },
    body: JSON.stringify(c),
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `the running server answered ${res.status}`);
  return body;
}
