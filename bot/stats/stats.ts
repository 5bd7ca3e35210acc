/**
 * 统计: the supervisor's numbers for a period, a unit and a channel, from the store, each as
 * defined in definitions.yaml. Case and rating numbers are limited to the cases the asker
 * may see (desk/scope.ts); conversation, question and knowledge numbers are the bureau's and
 * shown at the bureau level only (they belong to no unit).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { sourceFile } from '../paths.ts';
import type { Queryable } from '../store/database.ts';
import { LOW_CONFIDENCE } from '../../knowledge-base/unanswered.ts';
import { scopeCondition, type CaseScope } from '../../integrations/case-platform/desk/scope.ts';
import type { CaseRouter } from '../../integrations/case-platform/desk/router.ts';
import { isBadRating, RATINGS, type Rating } from '../../integrations/case-platform/types.ts';

export const DEFINITIONS = parse(readFileSync(sourceFile(import.meta.url, 'definitions.yaml'), 'utf8')) as Record<string, string>;

/** Two messages further apart than this begin a new conversation. */
export const CONVERSATION_GAP_MINUTES = 30;
/** A question about the same item asked again within this long means it was not resolved. */
export const REPEAT_HOURS = 72;
const SATISFIED: readonly Rating[] = ['非常满意', '满意', '基本满意'];
const PUT_RIGHT: readonly Rating[] = ['非常满意', '满意'];
/** Logged turns that are questions (not a 转人工, an emergency or small talk). */
const QUESTION = "intent IN ('answer', 'clarify', 'out_of_scope')";

export interface StatsFilter {
  /** [from, to) as instants. */
  from: Date;
  to: Date;
  /** A unit: its cases and those of the units below it. */
  unit?: string;
  channel?: string;
}

export interface StatsContext {
  db: Queryable;
  router: CaseRouter;
  /** The items of the release in force: names, category and 警种 of what was asked, and guides never asked. */
  guides: Array<{ id: string; name: string; category: string; department: string }>;
  timeZone: string;
  scope: CaseScope;
}

type Count = { key: string; name: string; n: number };
const counted = (m: Map<string, number>, name: (k: string) => string = (k) => k): Count[] =>
  [...m].map(([key, n]) => ({ key, name: name(key), n })).sort((a, b) => b.n - a.n || a.key.localeCompare(b.key));
const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);
const rate = (n: number, of: number) => (of ? Math.round((n / of) * 1000) / 10 : null);
const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return Math.round((s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2) * 10) / 10;
};
const hours = (from: Date | string, to: Date | string) => (new Date(to).getTime() - new Date(from).getTime()) / 3_600_000;

/** Conversations, questions and knowledge belong to no unit: they are the bureau level's to see. */
export const bureauView = (ctx: Pick<StatsContext, 'scope' | 'router'>, f: StatsFilter): boolean => ctx.scope.all && (!f.unit || f.unit === ctx.router.root.id);

/** The conversations begun in the period: one row each, with what happened in it. */
export async function conversationRows(ctx: StatsContext, f: StatsFilter) {
  const { rows } = await ctx.db.query<{
    conversation_id: string; channel: string; user_id: string; started: Date | string; ended: Date | string; messages: string;
    questions: string; answered: boolean; handed_over: boolean; handover_item: boolean | null; handover_after_question: boolean | null; has_case: boolean; repeated: boolean;
  }>(
    `WITH m AS (
       SELECT m.conversation_id, c.channel, c.user_id, m.at,
              CASE WHEN lag(m.at) OVER w IS NULL OR m.at - lag(m.at) OVER w > make_interval(mins => $4) THEN 1 ELSE 0 END AS starts
         FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.direction = 'in' AND m.at >= $1::timestamptz - make_interval(mins => $4) AND m.at < $2::timestamptz
          AND ($3::text IS NULL OR c.channel = $3)
       WINDOW w AS (PARTITION BY m.conversation_id ORDER BY m.at, m.id)
     ), numbered AS (
       SELECT *, sum(starts) OVER (PARTITION BY conversation_id ORDER BY at ROWS UNBOUNDED PRECEDING) AS n FROM m
     ), s AS (
       SELECT conversation_id, channel, user_id, min(at) AS started, max(at) AS ended, count(*) AS messages
         FROM numbered GROUP BY conversation_id, channel, user_id, n
     )
     SELECT s.*,
            (SELECT count(*) FROM question_log q WHERE q.conversation_id = s.conversation_id AND q.${QUESTION} AND q.asked_at BETWEEN s.started AND s.ended + interval '1 minute') AS questions,
            EXISTS (SELECT 1 FROM question_log q WHERE q.conversation_id = s.conversation_id AND q.intent = 'answer' AND q.asked_at BETWEEN s.started AND s.ended + interval '1 minute') AS answered,
            h.id IS NOT NULL AS handed_over,
            (h.summary -> 'item') IS NOT NULL AND h.summary -> 'item' <> 'null'::jsonb AS handover_item,
            jsonb_array_length(coalesce(h.summary -> 'lastQuestions', '[]'::jsonb)) > 1 AS handover_after_question,
            EXISTS (SELECT 1 FROM cases k WHERE k.channel = s.channel AND k.citizen_id = s.channel || ':' || s.user_id
                      AND k.created_at BETWEEN s.started AND s.ended + make_interval(mins => $4)) AS has_case,
            EXISTS (SELECT 1 FROM question_log a JOIN question_log b ON b.conversation_id = a.conversation_id AND b.item_id = a.item_id AND b.intent = 'answer'
                     WHERE a.conversation_id = s.conversation_id AND a.intent = 'answer' AND a.asked_at BETWEEN s.started AND s.ended + interval '1 minute'
                       AND b.asked_at > s.ended + interval '1 minute' AND b.asked_at <= s.ended + make_interval(hours => $5)) AS repeated
       FROM s
       LEFT JOIN LATERAL (SELECT id, summary FROM handoffs h WHERE h.conversation_id = s.conversation_id AND h.kind = 'handoff'
                            AND h.created_at BETWEEN s.started AND s.ended + make_interval(mins => $4) ORDER BY h.id LIMIT 1) h ON TRUE
      WHERE s.started >= $1::timestamptz
      ORDER BY s.started, s.conversation_id`,
    [f.from.toISOString(), f.to.toISOString(), f.channel ?? null, CONVERSATION_GAP_MINUTES, REPEAT_HOURS],
  );
  const clock = bureauClock(ctx.timeZone);
  return rows.map((r) => {
    const questions = Number(r.questions);
    const reason = !r.handed_over ? null : r.handover_item ? '答复后仍要人工' : r.handover_after_question || questions > 0 ? '未能回答' : '直接要求人工';
    return {
      conversationId: Number(r.conversation_id),
      channel: r.channel,
      started: new Date(r.started).toISOString(),
      ...clock(r.started),
      ended: new Date(r.ended).toISOString(),
      messages: Number(r.messages),
      questions,
      handedOver: r.handed_over,
      handoverReason: reason,
      caseOpened: r.has_case,
      repeatedWithin72h: r.repeated,
      selfServed: questions > 0 && r.answered && !r.handed_over && !r.has_case && !r.repeated,
    };
  });
}
export type ConversationRow = Awaited<ReturnType<typeof conversationRows>>[number];

/** The questions of the period (the CLI's excluded; no 转人工 or emergency), with their item's category and department. */
export async function questionRows(ctx: StatsContext, f: StatsFilter) {
  // 都不是: a pick of that choice in the same conversation after the question and before the next one.
  const { rows } = await ctx.db.query<{ id: string; asked_at: Date | string; channel: string; text: string; intent: string; item_id: string | null; top: string | null; confidence: number | null; none_of_these: boolean }>(
    `SELECT q.id, q.asked_at, q.channel, q.text, q.intent, q.item_id, q.candidates -> 0 ->> 'id' AS top, q.confidence,
            q.conversation_id IS NOT NULL AND EXISTS (
              SELECT 1 FROM messages m
               WHERE m.conversation_id = q.conversation_id AND m.direction = 'in' AND m.kind = 'menu' AND m.text = 'none' AND m.at >= q.asked_at
                 AND NOT EXISTS (SELECT 1 FROM question_log n WHERE n.conversation_id = q.conversation_id AND n.id > q.id AND n.asked_at <= m.at)) AS none_of_these
       FROM question_log q WHERE q.asked_at >= $1 AND q.asked_at < $2 AND q.${QUESTION} AND q.channel <> 'cli' AND ($3::text IS NULL OR q.channel = $3) ORDER BY q.id`,
    [f.from.toISOString(), f.to.toISOString(), f.channel ?? null],
  );
  const items = new Map(ctx.guides.map((g) => [g.id, g]));
  const clock = bureauClock(ctx.timeZone);
  return rows.map((r) => {
    const item = r.item_id ? items.get(r.item_id) : undefined;
    return {
      id: Number(r.id),
      askedAt: new Date(r.asked_at).toISOString(),
      ...clock(r.asked_at),
      channel: r.channel,
      text: r.text,
      intent: r.intent,
      itemId: r.item_id,
      itemName: item?.name ?? null,
      category: item?.category ?? null,
      department: item?.department ?? null,
      nearestItem: r.top,
      unanswered: r.intent === 'out_of_scope' || ((r.intent === 'answer' || r.intent === 'clarify') && (r.confidence ?? 0) < LOW_CONFIDENCE),
      noneOfThese: r.none_of_these,
    };
  });
}
export type QuestionRow = Awaited<ReturnType<typeof questionRows>>[number];

/** The cases opened in the period that the asker sees (and the unit and channel asked for). */
export async function caseRows(ctx: StatsContext, f: StatsFilter, now = new Date()) {
  const params: unknown[] = [f.from.toISOString(), f.to.toISOString(), f.channel ?? null];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const units = f.unit ? ctx.router.subtree(f.unit) : null;
  const { rows } = await ctx.db.query<{
    id: string; type: string; category: string; handling_unit: string; status: string; level: number; channel: string | null;
    created_at: Date | string; due_at: Date | string; closed_at: Date | string | null; first_action: Date | string | null;
  }>(
    `SELECT c.id, c.type, c.category, c.handling_unit, c.status, c.level, c.channel, c.created_at, c.due_at, c.closed_at,
            (SELECT min(s.at) FROM case_steps s WHERE s.case_id = c.id AND s.actor NOT IN ('system', 'citizen')) AS first_action
       FROM cases c
      WHERE c.created_at >= $1 AND c.created_at < $2 AND ($3::text IS NULL OR c.channel = $3)
        AND ${scopeCondition(ctx.scope, bind)} ${units ? `AND c.handling_unit = ANY(${bind(units)}::text[])` : ''}
      ORDER BY c.created_at, c.id`,
    params,
  );
  const ids = rows.map((r) => r.id);
  const surveys = ids.length
    ? (await ctx.db.query<{ case_id: string; round: number; status: string; rating: Rating | null }>('SELECT case_id, round, status, rating FROM surveys WHERE case_id = ANY($1::text[]) ORDER BY case_id, round', [ids])).rows
    : [];
  const byCase = new Map<string, typeof surveys>();
  for (const s of surveys) byCase.set(s.case_id, [...(byCase.get(s.case_id) ?? []), s]);
  const clock = bureauClock(ctx.timeZone);
  return rows.map((r) => {
    const closed = r.closed_at ? new Date(r.closed_at) : null;
    const due = new Date(r.due_at);
    const rounds = byCase.get(r.id) ?? [];
    const rated = rounds.filter((s) => s.status === 'answered' && s.rating);
    const badAt = rated.findIndex((s) => isBadRating(s.rating!));
    return {
      id: r.id,
      type: r.type,
      category: r.category,
      unit: r.handling_unit,
      unitName: ctx.router.units.find((u) => u.id === r.handling_unit)?.name ?? r.handling_unit,
      channel: r.channel,
      status: r.status,
      level: r.level,
      createdAt: new Date(r.created_at).toISOString(),
      ...clock(r.created_at),
      dueAt: due.toISOString(),
      closedAt: closed?.toISOString() ?? null,
      firstActionHours: r.first_action ? Math.round(hours(r.created_at, r.first_action) * 10) / 10 : null,
      closeHours: closed ? Math.round(hours(r.created_at, closed) * 10) / 10 : null,
      closedOnTime: closed ? closed <= due : null,
      overdue: closed ? closed > due : now > due,
      escalated: r.level > 1,
      ratings: rated.map((s) => s.rating!),
      unrated: rounds.filter((s) => s.status === 'unrated').length,
      badRating: badAt >= 0,
      putRight: badAt >= 0 && rated.slice(badAt + 1).some((s) => PUT_RIGHT.includes(s.rating!)),
    };
  });
}
export type CaseStatRow = Awaited<ReturnType<typeof caseRows>>[number];

/** The bureau's calendar day (YYYY-MM-DD) and hour (0–23) of an instant. */
export function bureauClock(timeZone: string) {
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' });
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (t: string | Date) => ({ day: day.format(new Date(t)), hour: Number(hour.format(new Date(t))) % 24 });
}

/** Counts by hour of day (0–23) and by day, from rows that carry their bureau day and hour. */
function byTime(rows: Array<{ day: string; hour: number }>) {
  const byHour = Array.from({ length: 24 }, () => 0);
  const days = new Map<string, number>();
  for (const r of rows) {
    byHour[r.hour]!++;
    bump(days, r.day);
  }
  return { byHour, byDay: [...days].sort(([a], [b]) => a.localeCompare(b)).map(([date, n]) => ({ date, n })) };
}

function caseStats(cases: CaseStatRow[]) {
  const summary = (list: CaseStatRow[]) => {
    const closed = list.filter((c) => c.closedAt);
    const ratings = list.flatMap((c) => c.ratings);
    return {
      opened: list.length,
      closed: closed.length,
      overdue: list.filter((c) => c.overdue).length,
      escalated: list.filter((c) => c.escalated).length,
      medianFirstActionHours: median(list.flatMap((c) => (c.firstActionHours === null ? [] : [c.firstActionHours]))),
      medianCloseHours: median(closed.map((c) => c.closeHours!)),
      onTimeRate: rate(closed.filter((c) => c.closedOnTime).length, closed.length),
      rated: ratings.length,
      satisfaction: rate(ratings.filter((r) => SATISFIED.includes(r)).length, ratings.length),
      badRatings: list.filter((c) => c.badRating).length,
    };
  };
  const group = (key: (c: CaseStatRow) => string) => {
    const m = new Map<string, number>();
    for (const c of cases) bump(m, key(c));
    return counted(m);
  };
  const units = new Map<string, CaseStatRow[]>();
  for (const c of cases) units.set(c.unit, [...(units.get(c.unit) ?? []), c]);
  const distribution = Object.fromEntries(RATINGS.map((r) => [r, 0])) as Record<Rating, number>;
  for (const r of cases.flatMap((c) => c.ratings)) distribution[r]++;
  const all = summary(cases);
  return {
    cases: {
      ...all,
      byType: group((c) => c.type),
      byCategory: group((c) => c.category),
      byStatus: group((c) => c.status),
    },
    units: [...units].map(([unit, list]) => ({ unit, name: list[0]!.unitName, ...summary(list) })).sort((a, b) => (b.onTimeRate ?? -1) - (a.onTimeRate ?? -1) || (b.satisfaction ?? -1) - (a.satisfaction ?? -1) || b.opened - a.opened),
    ratings: {
      distribution,
      rated: all.rated,
      satisfaction: all.satisfaction,
      badRatings: all.badRatings,
      putRight: cases.filter((c) => c.putRight).length,
      unrated: cases.reduce((n, c) => n + c.unrated, 0),
    },
  };
}

async function serviceStats(ctx: StatsContext, f: StatsFilter) {
  const [conversations, questions] = await Promise.all([conversationRows(ctx, f), questionRows(ctx, f)]);
  const { rows: msg } = await ctx.db.query<{ channel: string; n: string }>(
    `SELECT c.channel, count(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE m.direction = 'in' AND m.at >= $1 AND m.at < $2 AND ($3::text IS NULL OR c.channel = $3) GROUP BY c.channel`,
    [f.from.toISOString(), f.to.toISOString(), f.channel ?? null],
  );
  const byChannel = (list: Array<{ channel: string }>) => {
    const m = new Map<string, number>();
    for (const x of list) bump(m, x.channel);
    return counted(m);
  };
  const tally = (key: (q: QuestionRow) => string | null, name?: (k: string) => string) => {
    const m = new Map<string, number>();
    for (const q of questions) {
      const k = key(q);
      if (k) bump(m, k);
    }
    return counted(m, name);
  };
  const names = new Map(ctx.guides.map((g) => [g.id, g.name]));
  const itemName = (id: string) => names.get(id) ?? id;
  const withQuestions = conversations.filter((c) => c.questions > 0);
  const handed = conversations.filter((c) => c.handedOver);
  const reasons = new Map<string, number>();
  for (const c of handed) bump(reasons, c.handoverReason!);
  const unanswered = questions.filter((q) => q.unanswered);
  const { rows: clusters } = await ctx.db.query<{ id: string; label: string; asked: number }>(
    "SELECT id, label, asked FROM unanswered_clusters WHERE status = 'open' ORDER BY asked DESC, last_at DESC LIMIT 10",
  );
  const asked = new Set(questions.flatMap((q) => (q.itemId ? [q.itemId] : [])));
  const noneOf = new Map<string, number>();
  for (const q of questions) if (q.noneOfThese && q.nearestItem) bump(noneOf, q.nearestItem);
  const unansweredOf = new Map<string, number>();
  for (const q of unanswered) if (q.nearestItem) bump(unansweredOf, q.nearestItem);
  return {
    conversations: { total: conversations.length, byChannel: byChannel(conversations), ...byTime(conversations) },
    messages: { total: msg.reduce((n, r) => n + Number(r.n), 0), byChannel: counted(new Map(msg.map((r) => [r.channel, Number(r.n)]))) },
    questions: {
      total: questions.length,
      byChannel: byChannel(questions),
      ...byTime(questions),
      byCategory: tally((q) => q.category),
      byDepartment: tally((q) => q.department),
      topItems: tally((q) => q.itemId, itemName).slice(0, 10),
    },
    selfService: { conversations: withQuestions.length, resolved: withQuestions.filter((c) => c.selfServed).length, rate: rate(withQuestions.filter((c) => c.selfServed).length, withQuestions.length) },
    handover: { count: handed.length, rate: rate(handed.length, conversations.length), reasons: counted(reasons) },
    unanswered: { questions: unanswered.length, rate: rate(unanswered.length, questions.length), topClusters: clusters.map((c) => ({ id: Number(c.id), label: c.label, asked: c.asked })) },
    knowledge: {
      neverAsked: ctx.guides.filter((g) => !asked.has(g.id)).map((g) => ({ id: g.id, name: g.name })),
      mostNoneOfThese: counted(noneOf, itemName).slice(0, 10),
      mostUnanswered: counted(unansweredOf, itemName).slice(0, 10),
    },
  };
}

export async function computeStats(ctx: StatsContext, f: StatsFilter, now = new Date()) {
  const cases = caseStats(await caseRows(ctx, f, now));
  return {
    period: { from: f.from.toISOString(), to: f.to.toISOString(), timeZone: ctx.timeZone },
    unit: f.unit ?? null,
    channel: f.channel ?? null,
    service: bureauView(ctx, f) ? await serviceStats(ctx, f) : null,
    ...cases,
    definitions: DEFINITIONS,
  };
}
export type Stats = Awaited<ReturnType<typeof computeStats>>;
