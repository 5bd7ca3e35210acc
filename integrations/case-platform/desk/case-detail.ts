/**
 * One case as the desk's case page shows it: everything the case holds, the contact details
 * masked (the audited reveal gives them), the linked repeats, the questions put to the
 * citizen, the staff members' names, and the conversation that opened it (masked).
 */
import type { Queryable } from '../../../bot/store/database.ts';
import { maskPersonalNumbers } from '../../../bot/privacy.ts';
import type { Case, CaseStatus } from '../types.ts';
import type { CaseDesk, InfoRequest } from './desk.ts';
import { slaOf, type Sla } from './case-search.ts';

export interface CaseDetail extends Case {
  handlingUnitId: string;
  supervisingUnitId: string;
  place: string | null;
  assignee: string | null;
  assigneeName: string | null;
  /** Where the citizen reported it, and where they are told the result. */
  channel: string | null;
  consentToContact: boolean;
  /** Masked: 138****5678, 张**; the full values only through POST …/contact (audited). */
  contactMasked: { mobile: string | null; name: string | null };
  updatedAt: string;
  closedAt: string | null;
  sla: Sla;
  /** The open case this one repeats (another citizen's), and the cases that repeat this one. */
  repeatOfCase: { id: string; status: CaseStatus; handlingUnit: string } | null;
  repeats: Array<{ id: string; status: CaseStatus; createdAt: string }>;
  infoRequests: InfoRequest[];
  /** Display names of the staff who appear in the steps (staff:wang → 王警官). */
  actors: Record<string, string>;
}

export function maskMobile(m: string | null): string | null {
  return m ? (m.length >= 7 ? `${m.slice(0, 3)}****${m.slice(-4)}` : '****') : null;
}

export function maskName(n: string | null): string | null {
  if (!n) return null;
  const chars = [...n.trim()];
  return chars.length <= 1 ? '*' : `${chars[0]}${'*'.repeat(Math.min(chars.length - 1, 3))}`;
}

interface DetailRow {
  place: string | null;
  handling_unit: string;
  supervising_unit: string;
  assignee: string | null;
  channel: string | null;
  consent: boolean;
  citizen_mobile: string | null;
  citizen_name: string | null;
  status: CaseStatus;
  due_at: Date | string;
  updated_at: Date | string;
  closed_at: Date | string | null;
  repeat_of: string | null;
}

const iso = (d: Date | string) => new Date(d).toISOString();

export async function caseDetail(db: Queryable, desk: CaseDesk, id: string, now: Date): Promise<CaseDetail | null> {
  const c = await desk.get(id);
  if (!c) return null;
  const { rows } = await db.query<DetailRow>(
    `SELECT place, handling_unit, supervising_unit, assignee, channel, consent, citizen_mobile, citizen_name, status, due_at, updated_at, closed_at, repeat_of
     FROM cases WHERE id = $1`,
    [id],
  );
  const r = rows[0]!;
  const other = r.repeat_of && r.repeat_of !== id ? await db.query<{ id: string; status: CaseStatus; handling_unit: string }>('SELECT id, status, handling_unit FROM cases WHERE id = $1', [r.repeat_of]) : null;
  const repeats = await db.query<{ id: string; status: CaseStatus; created_at: Date | string }>('SELECT id, status, created_at FROM cases WHERE repeat_of = $1 AND id <> $1 ORDER BY id', [id]);
  const usernames = [...new Set([...(c.steps ?? []).map((s) => s.actor).filter((a) => a.startsWith('staff:')).map((a) => a.slice(6)), ...(r.assignee ? [r.assignee] : [])])];
  const names = usernames.length
    ? (await db.query<{ username: string; display_name: string | null }>('SELECT username, display_name FROM staff_users WHERE username = ANY($1)', [usernames])).rows
    : [];
  const nameOf = new Map(names.map((n) => [n.username, n.display_name || n.username]));
  const actors: Record<string, string> = { system: '系统', citizen: '群众' };
  for (const u of usernames) actors[`staff:${u}`] = nameOf.get(u) ?? u;
  const o = other?.rows[0];
  return {
    ...c,
    handlingUnitId: r.handling_unit,
    supervisingUnitId: r.supervising_unit,
    place: r.place,
    assignee: r.assignee,
    assigneeName: r.assignee ? (nameOf.get(r.assignee) ?? r.assignee) : null,
    channel: r.channel,
    consentToContact: r.consent,
    contactMasked: { mobile: maskMobile(r.citizen_mobile || null), name: maskName(r.citizen_name) },
    updatedAt: iso(r.updated_at),
    closedAt: r.closed_at ? iso(r.closed_at) : null,
    sla: slaOf({ status: r.status, dueAt: r.due_at, closedAt: r.closed_at }, now),
    repeatOfCase: o ? { id: o.id, status: o.status, handlingUnit: desk.unitName(o.handling_unit) } : null,
    repeats: repeats.rows.map((x) => ({ id: x.id, status: x.status, createdAt: iso(x.created_at) })),
    infoRequests: await desk.infoRequests(db, id),
    actors,
  };
}

/**
 * The chat in which the citizen reported the case: the messages of the last two hours before
 * it was registered, masked (as stored, and again, for older rows).
 */
export async function caseConversation(db: Queryable, id: string): Promise<Array<{ direction: 'in' | 'out'; text: string; at: string }> | null> {
  const link = await db.query<{ channel: string; user_id: string; created_at: Date | string }>(
    'SELECT l.channel, l.user_id, c.created_at FROM case_links l JOIN cases c ON c.id = l.case_id WHERE l.case_id = $1',
    [id],
  );
  const l = link.rows[0];
  if (!l) return null;
  const { rows } = await db.query<{ direction: 'in' | 'out'; text: string | null; at: Date | string }>(
    `SELECT * FROM (
       SELECT m.id, m.direction, m.text, m.at FROM messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE c.channel = $1 AND c.user_id = $2 AND m.text IS NOT NULL AND m.at <= $3::timestamptz + interval '1 minute'
         AND m.at >= $3::timestamptz - interval '2 hours'
       ORDER BY m.id DESC LIMIT 60) x ORDER BY id`,
    [l.channel, l.user_id, iso(l.created_at)],
  );
  return rows.map((m) => ({ direction: m.direction, text: maskPersonalNumbers(m.text ?? ''), at: iso(m.at) }));
}
