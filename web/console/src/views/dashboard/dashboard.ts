/**
 * What 统计 shares: the API's shapes (bot/server/stats-routes.ts; computeStats in
 * bot/stats/stats.ts; bot/stats/warnings.ts), the calls, the filter's query (period as
 * bureau-local dates, unit, channel), the drill-down's query and its CSV address, the Chinese
 * names of row fields, and the formats of rates and hours. No ECharts here: the desk's banner
 * imports the warnings from this file.
 */
import { api } from '../../api.ts';
import { bureauTimeZone } from '../../time.ts';

export interface Count { key: string; name: string; n: number }
export interface ByTime { byHour: number[]; byDay: Array<{ date: string; n: number }> }

export interface CaseSummary {
  opened: number; closed: number; overdue: number; escalated: number;
  medianFirstActionHours: number | null; medianCloseHours: number | null; onTimeRate: number | null;
  rated: number; satisfaction: number | null; badRatings: number;
}
export interface UnitStats extends CaseSummary { unit: string; name: string }

export interface ServiceStats {
  conversations: { total: number; byChannel: Count[] } & ByTime;
  messages: { total: number; byChannel: Count[] };
  questions: { total: number; byChannel: Count[]; byCategory: Count[]; byDepartment: Count[]; topItems: Count[] } & ByTime;
  selfService: { conversations: number; resolved: number; rate: number | null };
  handover: { count: number; rate: number | null; reasons: Count[] };
  unanswered: { questions: number; rate: number | null; topClusters: Array<{ id: number; label: string; asked: number }> };
  knowledge: { neverAsked: Array<{ id: string; name: string }>; mostNoneOfThese: Count[]; mostUnanswered: Count[] };
}

export const RATING_NAMES = ['非常满意', '满意', '基本满意', '不满意', '非常不满意'] as const;
export type Rating = (typeof RATING_NAMES)[number];

export interface UnitWarning { unit: string; name: string; overdue: number; badRatings: number; reasons: string[] }
export interface WarningRules { overdueCases: number; badRatings: number; days: number }

export type DefinitionKey =
  | 'conversations' | 'messages' | 'questions' | 'selfService' | 'handover' | 'unanswered' | 'cases' | 'overdue'
  | 'escalated' | 'firstAction' | 'closeTime' | 'onTime' | 'ratings' | 'putRight' | 'unrated' | 'knowledge';

export interface Stats {
  period: { from: string; to: string; timeZone: string };
  unit: string | null;
  channel: string | null;
  /** Null below the bureau level (a 分局's supervisor, or a unit chosen): conversations belong to no unit. */
  service: ServiceStats | null;
  cases: CaseSummary & { byType: Count[]; byCategory: Count[]; byStatus: Count[] };
  units: UnitStats[];
  ratings: { distribution: Record<Rating, number>; rated: number; satisfaction: number | null; badRatings: number; putRight: number; unrated: number };
  definitions: Partial<Record<DefinitionKey, string>>;
  warnings: UnitWarning[];
  warningRules: WarningRules;
}

/** The filter of the page: bureau-local dates (both days included), a unit (with those below it), a channel. */
export interface StatsFilter { from: string; to: string; unit: string; channel: string }

export type RowKind = 'cases' | 'conversations' | 'questions';
export type Where = Record<string, string | boolean>;
export type Row = Record<string, unknown>;
export interface RowPage { kind: RowKind; total: number; columns: Array<{ key: string; label: string }>; rows: Row[] }

/** One drill-down: the rows behind a number. */
export interface Drill { title: string; kind: RowKind; where: Where }

function filterParams(f: StatsFilter): URLSearchParams {
  const p = new URLSearchParams({ from: f.from, to: f.to });
  if (f.unit) p.set('unit', f.unit);
  if (f.channel) p.set('channel', f.channel);
  return p;
}

export const loadStats = (f: StatsFilter) => api<Stats>(`/api/stats?${filterParams(f)}`);
export const loadWarnings = () => api<{ rules: WarningRules; warnings: UnitWarning[] }>('/api/stats/warnings');

/** The drill-down's address: the page's filter, the kind, `where.FIELD=value` for each field, and the format. */
export function rowsUrl(f: StatsFilter, d: Pick<Drill, 'kind' | 'where'>, format: 'json' | 'csv' | 'xlsx' = 'json'): string {
  const p = filterParams(f);
  p.set('kind', d.kind);
  for (const [k, v] of Object.entries(d.where)) p.set(`where.${k}`, String(v));
  if (format !== 'json') p.set('format', format);
  return `/api/stats/rows?${p}`;
}
export const loadRows = (f: StatsFilter, d: Drill) => api<RowPage>(rowsUrl(f, d));

/** A date of the bureau's calendar (YYYY-MM-DD). */
export function bureauDate(at: Date | string = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: bureauTimeZone(), year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
}
/** A calendar date `days` later (or earlier, negative). */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
/** The last 30 days, today included, as the bureau counts them. */
export function defaultPeriod(): { from: string; to: string } {
  const to = bureauDate();
  return { from: addDays(to, -29), to };
}
/** Every date of a period's days, from the first to the last, for a chart's axis. */
export function daysOf(period: Stats['period']): string[] {
  const first = bureauDate(period.from);
  const last = bureauDate(new Date(new Date(period.to).getTime() - 1));
  const out: string[] = [];
  for (let d = first; d <= last && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}

export const percent = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v}%`);
export const hoursText = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v} 小时`);

export const STATUS_NAMES: Record<string, string> = { submitted: '待受理', accepted: '已受理', in_progress: '办理中', replied: '已答复', closed: '已办结' };
export const INTENT_NAMES: Record<string, string> = { answer: '作答', clarify: '请群众选择', out_of_scope: '超出范围' };

/** Column widths in the drawer (the headings and their order come with the rows, from the server). */
export const WIDTHS: Record<string, number> = {
  id: 110, type: 70, category: 90, unitName: 140, channel: 90, status: 80, level: 80, createdAt: 140, dueAt: 140, closedAt: 140,
  firstActionHours: 100, closeHours: 90, closedOnTime: 80, overdue: 60, escalated: 60, ratings: 120, unrated: 90, badRating: 60, putRight: 80,
  conversationId: 80, started: 140, ended: 140, messages: 60, questions: 60, handedOver: 70, handoverReason: 120, caseOpened: 80,
  repeatedWithin72h: 100, selfServed: 80, askedAt: 140, intent: 90, itemName: 160, department: 100, nearestItem: 100, unanswered: 60, noneOfThese: 90,
};
