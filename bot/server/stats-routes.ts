/**
 * 统计 (role supervisor; also a bureau system with the STAFF_API_TOKEN, for its own 数据驾驶舱):
 *
 *   GET /api/stats?from&to&unit&channel         the metrics of bot/stats/definitions.yaml as JSON
 *   GET /api/stats/rows?kind&where.F=v&format   the rows behind a number (cases, conversations,
 *                                               questions), narrowed by fields, as JSON, CSV or
 *                                               an Excel workbook (format=json|csv|xlsx)
 *   GET /api/stats/warnings                     units past a warning threshold (also role handler:
 *                                               their own units, shown in their console)
 *
 * `from` and `to` are dates (YYYY-MM-DD, both days included, in the bureau's time zone) or
 * instants (ISO 8601, `to` excluded); by default the last 30 days. A supervisor sees the
 * cases of the units they supervise and no other (desk/scope.ts); reading is audited.
 */
import { Router, type Request, type Response } from 'express';
import type { Database } from '../store/database.ts';
import type { CaseRouter } from '../../integrations/case-platform/desk/router.ts';
import { scopeOf } from '../../integrations/case-platform/desk/scope.ts';
import { bureauView, caseRows, computeStats, conversationRows, questionRows, type StatsContext, type StatsFilter } from '../stats/stats.ts';
import { columnsOf, tableOf, toCsv, toXlsx } from '../stats/export.ts';
import { unitWarnings, type WarningRules } from '../stats/warnings.ts';
import { auditOf, staffOf, type StaffAuth } from './staff-routes.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 400;
/**
 * Row fields a drill-down may narrow by, per kind: `where.F=v` keeps the rows whose F is v
 * (true/false for flags; a list field keeps the rows whose list holds v; `unit` keeps the
 * cases of that unit and the units below it).
 */
const FILTERS = {
  cases: ['unit', 'type', 'category', 'status', 'channel', 'day', 'hour', 'overdue', 'escalated', 'closedOnTime', 'rating', 'badRating', 'putRight', 'notRated'],
  conversations: ['channel', 'day', 'hour', 'handedOver', 'handoverReason', 'caseOpened', 'selfServed', 'repeatedWithin72h'],
  questions: ['channel', 'day', 'hour', 'intent', 'itemId', 'category', 'department', 'unanswered', 'nearestItem', 'noneOfThese'],
} as const;
/** Filters on a value the row holds under another name or shape. */
const DERIVED: Record<string, (r: Record<string, unknown>) => unknown> = {
  rating: (r) => r.ratings,
  notRated: (r) => Number(r.unrated) > 0,
};
const SHEET_NAMES = { cases: '诉求', conversations: '会话', questions: '提问' } as const;
type Kind = keyof typeof FILTERS;

export interface StatsDeps {
  router: CaseRouter;
  /** The items of the release in force (they change with a release, so asked each time). */
  guides: () => StatsContext['guides'];
  timeZone: string;
  warnings: WarningRules;
  now?: () => Date;
}

class BadQuery extends Error {}

export function statsRoutes(db: Database, auth: StaffAuth, deps: StatsDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());

  const supervisors = (req: Request, res: Response, next: () => void) => {
    const s = staffOf(res);
    if (s.system || s.roles.includes('supervisor')) return next();
    res.status(403).json({ error: '统计需要督办（supervisor）角色' });
  };

  /** The instant a bureau-local date begins, through the database's time zone rules. */
  const dayStart = async (day: string): Promise<Date> => {
    const { rows } = await db.query<{ at: Date | string }>('SELECT ($1::date::timestamp AT TIME ZONE $2) AS at', [day, deps.timeZone]);
    return new Date(rows[0]!.at);
  };
  const filterOf = async (req: Request, res: Response): Promise<StatsFilter> => {
    const q = req.query as Record<string, unknown>;
    const text = (k: string) => {
      const v = q[k];
      if (v === undefined || v === '') return undefined;
      if (typeof v !== 'string' || v.length > 40) throw new BadQuery(`${k} 须为一个值`);
      return v;
    };
    const instant = async (k: string, end: boolean) => {
      const v = text(k);
      if (v === undefined) return undefined;
      if (DAY.test(v)) {
        const d = new Date(`${v}T00:00:00Z`);
        if (Number.isNaN(d.getTime())) throw new BadQuery(`${k} 不是有效日期`);
        if (!end) return dayStart(v);
        d.setUTCDate(d.getUTCDate() + 1);
        return dayStart(d.toISOString().slice(0, 10));
      }
      const t = new Date(v);
      if (Number.isNaN(t.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(v)) throw new BadQuery(`${k} 须为日期（YYYY-MM-DD）或 ISO 8601 时间`);
      return t;
    };
    const to = (await instant('to', true)) ?? now();
    const from = (await instant('from', false)) ?? new Date(to.getTime() - 30 * 86_400_000);
    if (from >= to) throw new BadQuery('from 须早于 to');
    if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000) throw new BadQuery(`时段最长 ${MAX_DAYS} 天`);
    const unit = text('unit');
    if (unit !== undefined) {
      if (!deps.router.units.some((u) => u.id === unit)) throw new BadQuery(`没有单位 ${unit}`);
      const scope = scopeOf(staffOf(res), deps.router);
      const seen = scope.all || [...scope.handling, ...scope.watching].includes(unit);
      if (!seen) throw Object.assign(new BadQuery(`无权查看单位 ${unit} 的统计`), { status: 403 });
    }
    const channel = text('channel');
    return { from, to, ...(unit ? { unit } : {}), ...(channel ? { channel } : {}) };
  };
  const contextOf = (res: Response): StatsContext => ({
    db,
    router: deps.router,
    guides: deps.guides(),
    timeZone: deps.timeZone,
    scope: scopeOf(staffOf(res), deps.router),
  });
  const refused = (res: Response, e: unknown) => {
    if (!(e instanceof BadQuery)) throw e;
    res.status((e as BadQuery & { status?: number }).status ?? 400).json({ error: e.message });
  };

  router.get('/api/stats', auth, supervisors, async (req, res) => {
    let f: StatsFilter;
    try {
      f = await filterOf(req, res);
    } catch (e) {
      return refused(res, e);
    }
    const ctx = contextOf(res);
    res.json({ ...(await computeStats(ctx, f, now())), warnings: await unitWarnings(db, deps.router, ctx.scope, deps.warnings, now()), warningRules: deps.warnings });
  });

  router.get('/api/stats/warnings', auth, async (_req, res) => {
    const s = staffOf(res);
    if (!s.system && !s.roles.includes('supervisor') && !s.roles.includes('handler')) return void res.status(403).json({ error: '预警需要督办或承办角色' });
    res.json({ rules: deps.warnings, warnings: await unitWarnings(db, deps.router, scopeOf(s, deps.router), deps.warnings, now()) });
  });

  router.get('/api/stats/rows', auth, supervisors, async (req, res) => {
    let f: StatsFilter;
    const kind = req.query.kind as Kind;
    const format = (req.query.format ?? 'json') as string;
    const where: Array<[string, string]> = [];
    try {
      if (!Object.hasOwn(FILTERS, kind)) throw new BadQuery(`kind 只能是 ${Object.keys(FILTERS).join('、')}`);
      if (!['json', 'csv', 'xlsx'].includes(format)) throw new BadQuery('format 只能是 json、csv 或 xlsx');
      for (const [k, v] of Object.entries(req.query)) {
        if (!k.startsWith('where.')) continue;
        const field = k.slice('where.'.length);
        if (!(FILTERS[kind] as readonly string[]).includes(field)) throw new BadQuery(`${kind} 的明细不能按 ${field} 筛选，可用：${FILTERS[kind].join('、')}`);
        if (typeof v !== 'string' || v.length > 80) throw new BadQuery(`where.${field} 须为一个值`);
        if (field === 'unit' && !deps.router.has(v)) throw new BadQuery(`没有单位 ${v}`);
        where.push([field, v]);
      }
      f = await filterOf(req, res);
    } catch (e) {
      return refused(res, e);
    }
    const ctx = contextOf(res);
    if (kind !== 'cases' && !bureauView(ctx, f)) {
      return void res.status(403).json({ error: '会话和提问的明细只对局级开放' });
    }
    const all: Array<Record<string, unknown>> =
      kind === 'cases' ? await caseRows(ctx, f, now()) : kind === 'conversations' ? await conversationRows(ctx, f) : await questionRows(ctx, f);
    const tests = where.map(([field, want]) => {
      if (field === 'unit') {
        const units = new Set(deps.router.subtree(want));
        return (r: Record<string, unknown>) => units.has(String(r.unit));
      }
      const value = DERIVED[field] ?? ((r: Record<string, unknown>) => r[field]);
      return (r: Record<string, unknown>) => {
        const v = value(r);
        return Array.isArray(v) ? v.map(String).includes(want) : String(v) === want;
      };
    });
    const rows = all.filter((r) => tests.every((test) => test(r)));
    await auditOf(res)('stats.rows', { details: { kind, rows: rows.length, format, where: Object.fromEntries(where), from: f.from.toISOString(), to: f.to.toISOString(), unit: f.unit ?? null } });
    if (format === 'json') return void res.json({ kind, total: rows.length, columns: columnsOf(kind), rows });
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const name = `xiaoan-${kind}-${day(f.from)}-${day(f.to)}`;
    const table = tableOf(kind, rows, deps.timeZone);
    if (format === 'csv') {
      res.set('content-type', 'text/csv; charset=utf-8').set('content-disposition', `attachment; filename="${name}.csv"`);
      return void res.send(toCsv(table));
    }
    res
      .set('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .set('content-disposition', `attachment; filename="${name}.xlsx"`)
      .send(await toXlsx(table, SHEET_NAMES[kind]));
  });

  return router;
}
