/**
 * 账号管理 over HTTP, for admins only (role `admin`; the systems' bearer token has no such role):
 *
 *   GET  /api/staff/accounts                     every account: roles, unit, status, last login
 *   POST /api/staff/accounts                     {username, password, roles, unit?, displayName?}
 *   POST /api/staff/accounts/:username           {roles?, unit?, displayName?}
 *   POST /api/staff/accounts/:username/password  {password}: their sessions end
 *   POST /api/staff/accounts/:username/disable   their sessions end
 *   POST /api/staff/accounts/:username/enable
 *   GET  /api/staff/units                        the units an account may belong to
 *
 * Changes take effect at once in the running server (sessions read the account on every
 * request) and are audited with the change itself; refusals are audited as failed. An admin
 * cannot disable themselves or drop their own admin role, and no change leaves the bureau
 * without an enabled admin.
 */
import { Router, type Request, type Response } from 'express';
import type { Database } from '../store/database.ts';
import {
  addStaff,
  getStaff,
  listStaff,
  resetStaffPassword,
  setStaffDisabled,
  StaffError,
  updateStaff,
  type Actor,
  type StaffAccount,
  type StaffRole,
  usernameProblem,
} from '../store/staff.ts';
import { wellFormed } from '../storable-text.ts';
import type { Unit } from '../../integrations/case-platform/desk/router.ts';
import { auditOf, rolesOnly, staffOf, type StaffAuth } from './staff-routes.ts';

const adminsOnly = rolesOnly('admin');
const MAX_DISPLAY_NAME = 40;
const MAX_PASSWORD = 128;

type Body = Record<string, unknown>;
const bodyOf = (req: Request): Body => (req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Body) : {});

function roles(v: unknown): StaffRole[] {
  if (!Array.isArray(v) || v.some((r) => typeof r !== 'string')) throw new StaffError('roles 必须是角色名称的数组，例如 ["agent", "hotline"]', 400);
  return v as StaffRole[];
}

function password(v: unknown): string {
  if (typeof v !== 'string' || !v) throw new StaffError('请填写密码', 400);
  if (v.length > MAX_PASSWORD) throw new StaffError(`密码不能超过 ${MAX_PASSWORD} 个字符`, 400);
  return v;
}

/** A display name: trimmed, at most 40 characters; empty or null clears it. */
function displayName(v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== 'string') throw new StaffError('displayName 必须是字符串', 400);
  const s = v.trim();
  if (!wellFormed(s)) throw new StaffError('姓名含有无效字符', 400);
  if (s.length > MAX_DISPLAY_NAME) throw new StaffError(`姓名不能超过 ${MAX_DISPLAY_NAME} 个字符`, 400);
  return s || null;
}

export function accountRoutes(db: Database, auth: StaffAuth, units: readonly Unit[]): Router {
  const router = Router();
  const unitNames = new Map(units.map((u) => [u.id, u.name]));

  /** A unit id the desk knows; empty or null clears it. */
  const unit = (v: unknown): string | null => {
    if (v === null || v === '') return null;
    if (typeof v !== 'string' || !unitNames.has(v)) throw new StaffError(`未知单位 ${typeof v === 'string' ? v.slice(0, 40) : String(v)}；请从 GET /api/staff/units 的单位中选择，或留空`, 400);
    return v;
  };
  const shown = (a: StaffAccount) => ({ ...a, unitName: a.unit ? (unitNames.get(a.unit) ?? null) : null });
  const actorOf = (req: Request, res: Response): Actor => ({ name: staffOf(res).username, address: req.ip });
  const account = async (username: string) => {
    const a = await getStaff(db, username);
    if (!a) throw new StaffError(`没有账号 ${username}`, 404);
    return shown(a);
  };

  /** Runs a change; the store audits what it did, a refusal (StaffError) is audited here as failed. */
  const change =
    (action: string, fn: (req: Request, res: Response, username: string) => Promise<unknown>, status = 200) =>
    async (req: Request, res: Response): Promise<void> => {
      const username = String(req.params.username ?? bodyOf(req).username ?? '').slice(0, 100);
      try {
        const out = await fn(req, res, username);
        res.status(status).json(out);
      } catch (e) {
        if (!(e instanceof StaffError)) throw e;
        // A name no account could have (a password typed in the wrong box?) is not written down.
        await auditOf(res)(action, { target: usernameProblem(username) ? undefined : username, outcome: 'failed', details: { reason: e.message } });
        res.status(e.status).json({ error: e.message });
      }
    };

  router.get('/api/staff/units', auth, adminsOnly, (_req, res) => {
    res.json({ units: units.map((u) => ({ id: u.id, name: u.name })) });
  });

  router.get('/api/staff/accounts', auth, adminsOnly, async (_req, res) => {
    const accounts = (await listStaff(db)).map(shown);
    await auditOf(res)('staff.list', { details: { count: accounts.length } });
    res.json({ accounts });
  });

  router.post(
    '/api/staff/accounts',
    auth,
    adminsOnly,
    change(
      'staff.create',
      async (req, res, username) => {
        const b = bodyOf(req);
        if (typeof b.username !== 'string' || !b.username) throw new StaffError('请填写用户名', 400);
        await addStaff(db, username, password(b.password), roles(b.roles), actorOf(req, res), {
          onlyNew: true,
          unit: b.unit === undefined ? null : unit(b.unit),
          displayName: b.displayName === undefined ? null : displayName(b.displayName),
        });
        return { account: await account(username) };
      },
      201,
    ),
  );

  router.post(
    '/api/staff/accounts/:username',
    auth,
    adminsOnly,
    change('staff.update', async (req, res, username) => {
      const b = bodyOf(req);
      if (b.password !== undefined) throw new StaffError('修改密码请用 POST /api/staff/accounts/{username}/password', 400);
      const c = {
        ...(b.roles !== undefined ? { roles: roles(b.roles) } : {}),
        ...(b.unit !== undefined ? { unit: unit(b.unit) } : {}),
        ...(b.displayName !== undefined ? { displayName: displayName(b.displayName) } : {}),
      };
      if (!Object.keys(c).length) throw new StaffError('没有要修改的内容：可修改 roles、unit、displayName', 400);
      return { account: shown(await updateStaff(db, username, c, actorOf(req, res))) };
    }),
  );

  router.post(
    '/api/staff/accounts/:username/password',
    auth,
    adminsOnly,
    change('staff.password', async (req, res, username) => {
      const r = await resetStaffPassword(db, username, password(bodyOf(req).password), actorOf(req, res));
      if (!r) throw new StaffError(`没有账号 ${username}`, 404);
      return { account: await account(username), sessionsEnded: r.sessionsEnded };
    }),
  );

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    router.post(
      `/api/staff/accounts/:username/${verb}`,
      auth,
      adminsOnly,
      change(`staff.${verb}`, async (req, res, username) => {
        if (!(await setStaffDisabled(db, username, disabled, actorOf(req, res), { keepAdmin: true }))) throw new StaffError(`没有账号 ${username}`, 404);
        return { account: await account(username) };
      }),
    );
  }

  return router;
}
