/**
 * The desk's lists: search, filters, sort and pages over the cases of a staff member's
 * scope, with the counts of the working tabs and each case's SLA colour. Everything is one
 * SQL query on `cases` (plus the counts), so a list of thousands pages as fast as one of ten.
 */
import type { Queryable } from '../../../bot/store/database.ts';
import type { CaseStatus, CaseType } from '../types.ts';
import { CASE_TYPES } from '../types.ts';
import type { CaseRouter } from './router.ts';
import { scopeCondition, type CaseScope } from './scope.ts';

/** Due within this many hours counts as 将到期 (orange). */
export const DUE_SOON_HOURS = 24;
export const MAX_PAGE_SIZE = 100;

export type Sla = 'overdue' | 'due_soon' | 'on_time' | 'closed_on_time' | 'closed_late';

export const CASE_STATUSES: readonly CaseStatus[] = ['submitted', 'accepted', 'in_progress', 'replied', 'closed'];
const STATUS_FILTERS = ['open', 'closed', 'all', ...CASE_STATUSES] as const;
const SORTS = { due: 'due_at', created: 'created_at', updated: 'updated_at' } as const;

export interface CaseQuery {
  /** A case number (or its start), words of the description or place, or the last four digits of the phone. */
  q?: string;
  /** open (default), closed, all, or one status. */
  status?: (typeof STATUS_FILTERS)[number];
  type?: CaseType;
  category?: string;
  /** A handling unit, with the units below it. */
  unit?: string;
  level?: 1 | 2 | 3;
  overdue?: boolean;
  dueSoon?: boolean;
  /** Only the cases assigned to the caller. */
  mine?: boolean;
  /** Only cases linked as repeats (either end). */
  repeats?: boolean;
  sort?: keyof typeof SORTS;
  order?: 'asc' | 'desc';
  page?: number;
  pageSize?: number;
}

export interface CaseSummary {
  id: string;
  status: CaseStatus;
  type: CaseType;
  category: string;
  description: string;
  place: string | null;
  handlingUnitId: string;
  handlingUnit: string;
  supervisingUnitId: string;
  supervisingUnit: string;
  assignee: string | null;
  assigneeName: string | null;
  level: 1 | 2 | 3;
  round: number;
  repeatOf: string | null;
  /** How many other citizens' cases repeat this one. */
  repeats: number;
  /** A question to the citizen not answered yet. */
  waitingForCitizen: boolean;
  dueAt: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  sla: Sla;
}

export interface CaseCounts {
  /** Every case not closed. */
  open: number;
  notStarted: number;
  inProgress: number;
  overdue: number;
  dueSoon: number;
  mine: number;
  escalated: number;
  closed: number;
}

export interface CasePage {
  items: CaseSummary[];
  total: number;
  page: number;
  pageSize: number;
  counts: CaseCounts;
}

export function slaOf(c: { status: CaseStatus; dueAt: string | Date; closedAt?: string | Date | null }, now: Date): Sla {
  const due = new Date(c.dueAt).getTime();
  if (c.status === 'closed') return c.closedAt && new Date(c.closedAt).getTime() > due ? 'closed_late' : 'closed_on_time';
  if (due < now.getTime()) return 'overdue';
  return due - now.getTime() <= DUE_SOON_HOURS * 3_600_000 ? 'due_soon' : 'on_time';
}

/** A query from URL parameters; throws a message for the 400 naming what is wrong. */
export function parseCaseQuery(p: Record<string, unknown>, router: CaseRouter): CaseQuery {
  const one = (k: string): string | undefined => {
    const v = p[k];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string' || v.length > 100) throw new Error(`参数 ${k} 只能给一个，且不超过 100 个字符`);
    return v;
  };
  const flag = (k: string): boolean | undefined => {
    const v = one(k);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0') throw new Error(`参数 ${k} 只能是 true 或 false`);
    return v === 'true' || v === '1';
  };
  const int = (k: string, min: number, max: number): number | undefined => {
    const v = one(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new Error(`参数 ${k} 必须是 ${min} 到 ${max} 之间的整数`);
    return Number(v);
  };
  const choice = <T extends string>(k: string, allowed: readonly T[]): T | undefined => {
    const v = one(k);
    if (v !== undefined && !allowed.includes(v as T)) throw new Error(`参数 ${k} 只能是 ${allowed.join('、')}`);
    return v as T | undefined;
  };
  const unit = one('unit');
  if (unit && !router.has(unit)) throw new Error(`未知单位 ${unit}`);
  return {
    q: one('q')?.trim() || undefined,
    status: choice('status', STATUS_FILTERS),
    type: choice('type', CASE_TYPES),
    category: one('category'),
    unit,
    level: int('level', 1, 3) as 1 | 2 | 3 | undefined,
    overdue: flag('overdue'),
    dueSoon: flag('dueSoon'),
    mine: flag('mine'),
    repeats: flag('repeats'),
    sort: choice('sort', Object.keys(SORTS) as Array<keyof typeof SORTS>),
    order: choice('order', ['asc', 'desc'] as const),
    page: int('page', 1, 100_000),
    pageSize: int('pageSize', 1, MAX_PAGE_SIZE),
  };
}

interface SummaryRow {
  id: string;
  status: CaseStatus;
  type: CaseType;
  category: string;
  description: string;
  place: string | null;
  handling_unit: string;
  supervising_unit: string;
  assignee: string | null;
  assignee_name: string | null;
  level: 1 | 2 | 3;
  round: number;
  repeat_of: string | null;
  repeats: string;
  waiting: boolean;
  due_at: Date | string;
  created_at: Date | string;
  updated_at: Date | string;
  closed_at: Date | string | null;
  total: string;
}

const iso = (d: Date | string) => new Date(d).toISOString();
const likeText = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function searchCases(db: Queryable, router: CaseRouter, scope: CaseScope, query: CaseQuery, o: { me: string; now: Date }): Promise<CasePage> {
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  // Bound when first used: PostgreSQL refuses a parameter the query never mentions.
  let nowParam: string | undefined;
  const now = () => (nowParam ??= bind(o.now.toISOString()));
  const where = [scopeCondition(scope, bind)];
  const status = query.status ?? 'open';
  if (status === 'open') where.push("status <> 'closed'");
  else if (status !== 'all') where.push(`status = ${bind(status)}`);
  if (query.type) where.push(`type = ${bind(query.type)}`);
  if (query.category) where.push(`category = ${bind(query.category)}`);
  if (query.unit) where.push(`handling_unit = ANY(${bind(router.subtree(query.unit))}::text[])`);
  if (query.level) where.push(`level = ${bind(query.level)}`);
  if (query.overdue) where.push(`status <> 'closed' AND due_at < ${now()}::timestamptz`);
  if (query.dueSoon) where.push(`status <> 'closed' AND due_at >= ${now()}::timestamptz AND due_at < ${now()}::timestamptz + interval '${DUE_SOON_HOURS} hours'`);
  if (query.mine) where.push(`assignee = ${bind(o.me)}`);
  if (query.repeats) where.push(`(repeat_of IS NOT NULL OR EXISTS (SELECT 1 FROM cases r WHERE r.repeat_of = cases.id AND r.id <> cases.id))`);
  if (query.q) {
    const q = query.q;
    const ors = [`id ILIKE ${bind(`${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`, `description ILIKE ${bind(likeText(q))}`, `place ILIKE ${bind(likeText(q))}`];
    // Four digits: the end of the citizen's phone (the number itself is never shown here).
    if (/^\d{4}$/.test(q)) ors.push(`right(citizen_mobile, 4) = ${bind(q)}`);
    where.push(`(${ors.join(' OR ')})`);
  }
  const pageSize = query.pageSize ?? 20;
  const page = query.page ?? 1;
  const column = SORTS[query.sort ?? 'due'];
  const order = query.order ?? (query.sort === 'created' || query.sort === 'updated' || status === 'closed' ? 'desc' : 'asc');
  const { rows } = await db.query<SummaryRow>(
    `SELECT id, status, type, category, description, place, handling_unit, supervising_unit, assignee, level, round, repeat_of,
       (SELECT count(*) FROM cases r WHERE r.repeat_of = cases.id AND r.id <> cases.id) AS repeats,
       EXISTS (SELECT 1 FROM case_info_requests i WHERE i.case_id = cases.id AND i.answer IS NULL) AS waiting,
       (SELECT display_name FROM staff_users u WHERE u.username = cases.assignee) AS assignee_name,
       due_at, created_at, updated_at, closed_at, count(*) OVER () AS total
     FROM cases WHERE ${where.join(' AND ')}
     ORDER BY ${column} ${order}, id ${order} LIMIT ${bind(pageSize)} OFFSET ${bind((page - 1) * pageSize)}`,
    params,
  );
  const name = (id: string) => (router.has(id) ? router.unit(id).name : id);
  return {
    items: rows.map((r) => ({
      id: r.id,
      status: r.status,
      type: r.type,
      category: r.category,
      description: r.description,
      place: r.place,
      handlingUnitId: r.handling_unit,
      handlingUnit: name(r.handling_unit),
      supervisingUnitId: r.supervising_unit,
      supervisingUnit: name(r.supervising_unit),
      assignee: r.assignee,
      assigneeName: r.assignee ? (r.assignee_name ?? r.assignee) : null,
      level: r.level,
      round: r.round,
      repeatOf: r.repeat_of,
      repeats: Number(r.repeats),
      waitingForCitizen: r.waiting,
      dueAt: iso(r.due_at),
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      closedAt: r.closed_at ? iso(r.closed_at) : null,
      sla: slaOf({ status: r.status, dueAt: r.due_at, closedAt: r.closed_at }, o.now),
    })),
    // A page past the end still says how many there are.
    total: rows[0] ? Number(rows[0].total) : await countOnly(db, where, params),
    page,
    pageSize,
    counts: await countCases(db, scope, o),
  };
}

async function countOnly(db: Queryable, where: string[], params: unknown[]): Promise<number> {
  // The LIMIT and OFFSET parameters are the last two; the count needs the rest.
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM cases WHERE ${where.join(' AND ')}`, params.slice(0, -2));
  return Number(rows[0]?.n ?? 0);
}

/** The working tabs' counts in a scope. */
export async function countCases(db: Queryable, scope: CaseScope, o: { me: string; now: Date }): Promise<CaseCounts> {
  const params: unknown[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const now = bind(o.now.toISOString());
  const me = bind(o.me);
  const { rows } = await db.query<Record<keyof CaseCounts, string>>(
    `SELECT
       count(*) FILTER (WHERE status <> 'closed') AS open,
       count(*) FILTER (WHERE status = 'submitted') AS "notStarted",
       count(*) FILTER (WHERE status IN ('accepted', 'in_progress', 'replied')) AS "inProgress",
       count(*) FILTER (WHERE status <> 'closed' AND due_at < ${now}::timestamptz) AS overdue,
       count(*) FILTER (WHERE status <> 'closed' AND due_at >= ${now}::timestamptz AND due_at < ${now}::timestamptz + interval '${DUE_SOON_HOURS} hours') AS "dueSoon",
       count(*) FILTER (WHERE status <> 'closed' AND assignee = ${me}) AS mine,
       count(*) FILTER (WHERE status <> 'closed' AND level > 1) AS escalated,
       count(*) FILTER (WHERE status = 'closed') AS closed
     FROM cases WHERE ${scopeCondition(scope, bind)}`,
    params,
  );
  const r = rows[0]!;
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])) as unknown as CaseCounts;
}
