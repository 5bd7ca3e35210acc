/**
 * The built-in case desk (诉求办理), used when no external platform is configured: the same
 * contract as openapi.yaml on 小安's own store. Cases are routed from their text; a repeat
 * within 30 days from the same citizen is added to their open case, one from another citizen
 * becomes that citizen's own case linked to the open one (handled with it, told and rated on
 * its own); every step is recorded with actor and time, and state changes are announced as
 * contract events (the signed callbacks).
 */
import type { Database, Queryable } from '../../../bot/store/database.ts';
import type { Case, CaseEvent, CaseStatus, CaseStep, NewCase, Rating } from '../types.ts';
import { RATINGS } from '../types.ts';
import type { CaseRouter } from './router.ts';
import { maskPersonalNumbers } from '../../../bot/privacy.ts';

export const REPEAT_WINDOW_DAYS = 30;
/** Character-bigram overlap above which two descriptions are the same matter. */
export const SIMILAR_TEXT = 0.5;

export class DeskError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

interface CaseRow {
  id: string;
  citizen_id: string;
  type: Case['type'];
  category: string;
  description: string;
  place: string | null;
  handling_unit: string;
  supervising_unit: string;
  status: CaseStatus;
  round: number;
  level: 1 | 2 | 3;
  reply: string | null;
  repeat_of: string | null;
  due_at: Date | string;
  created_at: Date | string;
}

const iso = (d: Date | string) => new Date(d).toISOString();

function bigrams(s: string): Set<string> {
  const chars = [...s.replace(/[\s\p{P}]/gu, '')];
  const out = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  return out;
}

/**
 * Overlap of character bigrams relative to the shorter text: a short follow-up ("KTV半夜
 * 还是很吵") matches the longer first complaint it repeats.
 */
export function similarity(a: string, b: string): number {
  const x = bigrams(a);
  const y = bigrams(b);
  if (!x.size || !y.size) return 0;
  let both = 0;
  for (const g of x) if (y.has(g)) both++;
  return both / Math.min(x.size, y.size);
}

/** Which transitions staff may make, from which states. */
const TRANSITIONS: Record<'accept' | 'start' | 'reply' | 'close', { from: CaseStatus[]; to: CaseStatus; action: string }> = {
  accept: { from: ['submitted'], to: 'accepted', action: '受理' },
  start: { from: ['accepted'], to: 'in_progress', action: '开始办理' },
  reply: { from: ['accepted', 'in_progress'], to: 'replied', action: '答复' },
  close: { from: ['replied'], to: 'closed', action: '办结' },
};

export interface DeskOptions {
  now?: () => Date;
  /** Called inside the transaction of every state change (to put the callback in the outbox). */
  onEvent?: (event: CaseEvent, tx: Queryable) => Promise<void>;
}

export class CaseDesk {
  constructor(
    private readonly db: Database,
    private readonly router: CaseRouter,
    private readonly o: DeskOptions = {},
  ) {}

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  async create(given: NewCase, idempotencyKey: string): Promise<Case> {
    // Numbers in the citizen's words are masked here; only the contact fields keep theirs.
    const c: NewCase = { ...given, description: maskPersonalNumbers(given.description ?? ''), ...(given.place ? { place: maskPersonalNumbers(given.place) } : {}) };
    if (!c.description || [...c.description.trim()].length < 10) throw new DeskError('description must be at least 10 characters', 400);
    if (!/^1[3-9]\d{9}$/.test(c.citizen?.mobile ?? '')) throw new DeskError('citizen.mobile must be a mainland mobile number', 400);
    return this.db.transaction(async (tx) => {
      const seen = await tx.query<{ id: string }>('SELECT id FROM cases WHERE idempotency_key = $1', [idempotencyKey]);
      if (seen.rows[0]) return (await this.load(tx, seen.rows[0].id))!;

      const now = this.now();
      const since = new Date(now.getTime() - REPEAT_WINDOW_DAYS * 86_400_000).toISOString();
      const open = await tx.query<CaseRow>(
        `SELECT * FROM cases WHERE status <> 'closed' AND created_at >= $1 AND (citizen_id = $2 OR (place IS NOT NULL AND place = $3)) ORDER BY created_at`,
        [since, c.citizen.id, c.place ?? null],
      );
      // The same matter again, from the same citizen or about the same place.
      const repeat = open.rows.find((r) => similarity(r.description, c.description) >= SIMILAR_TEXT);
      if (repeat && repeat.citizen_id === c.citizen.id) {
        await this.step(tx, repeat.id, 'system', '重复诉求', `同一事项再次反映（${c.channel ?? '未知渠道'}）：${c.description.slice(0, 200)}`);
        return { ...(await this.load(tx, repeat.id))!, repeatOf: repeat.id };
      }

      const r = this.router.route(c.description, c.place, c.type);
      const { rows } = await tx.query<{ n: string }>("SELECT nextval('case_number_seq') AS n");
      const id = `XA${now.toISOString().slice(0, 10).replace(/-/g, '')}${String(rows[0]!.n).padStart(4, '0')}`;
      // Another citizen's repeat is handled with the open case: by its unit, by its due date.
      const handlingUnit = repeat?.handling_unit ?? r.handlingUnit.id;
      const supervisingUnit = repeat?.supervising_unit ?? r.supervisingUnit.id;
      const due = repeat ? new Date(repeat.due_at) : new Date(now.getTime() + r.dueHours * 3_600_000);
      await tx.query(
        `INSERT INTO cases (id, idempotency_key, citizen_id, citizen_mobile, citizen_name, consent, channel, type, category, description, place,
           handling_unit, supervising_unit, due_at, created_at, updated_at, repeat_of)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)`,
        [id, idempotencyKey, c.citizen.id, c.citizen.mobile, c.citizen.name ?? null, c.citizen.consentToContact, c.channel ?? null, r.type,
          repeat?.category ?? r.category, c.description, c.place ?? null, handlingUnit, supervisingUnit, due.toISOString(), now.toISOString(), repeat?.id ?? null],
      );
      await this.step(tx, id, 'system', '登记', `分拣：${r.type}·${repeat?.category ?? r.category}，承办 ${this.unitName(handlingUnit)}，督办 ${this.unitName(supervisingUnit)}`);
      // Internal steps (never shown to a citizen): each case names the other, not its text.
      if (repeat) {
        await this.step(tx, id, 'system', '并案', `与 ${repeat.id} 为同一事项，一并办理`);
        await this.step(tx, repeat.id, 'system', '并案', `另一位群众反映同一事项：${id}`);
      }
      return (await this.load(tx, id))!;
    });
  }

  get(id: string): Promise<Case | null> {
    return this.load(this.db, id);
  }

  async listForCitizen(citizenId: string): Promise<Case[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM cases WHERE citizen_id = $1 ORDER BY created_at DESC', [citizenId]);
    return Promise.all(rows.map((r) => this.load(this.db, r.id).then((c) => c!)));
  }

  /**
   * A staff action: accept, start, reply (with the reply text) or close. It is applied to the
   * open repeats linked to the case too (where the step fits their state), so every citizen
   * who reported the matter hears the result of their own case and is asked to rate it.
   */
  async act(id: string, action: keyof typeof TRANSITIONS, actor: string, note?: string): Promise<Case> {
    const t = TRANSITIONS[action];
    if (action === 'reply' && !note?.trim()) throw new DeskError('a reply needs its text', 400);
    return this.db.transaction(async (tx) => {
      // Lock the row: two staff closing at once must not both succeed.
      const { rows } = await tx.query<CaseRow>('SELECT * FROM cases WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (!row) throw new DeskError(`no case ${id}`, 404);
      if (!t.from.includes(row.status)) throw new DeskError(`case ${id} is ${row.status}: cannot ${action}`, 409);
      const c = await this.transition(tx, row, action, actor, note);
      const repeats = await tx.query<CaseRow>('SELECT * FROM cases WHERE repeat_of = $1 AND status = ANY($2) ORDER BY id FOR UPDATE', [id, t.from]);
      for (const r of repeats.rows) await this.transition(tx, r, action, actor, note);
      return c;
    });
  }

  private async transition(tx: Queryable, row: CaseRow, action: keyof typeof TRANSITIONS, actor: string, note?: string): Promise<Case> {
    const t = TRANSITIONS[action];
    await tx.query(
      `UPDATE cases SET status = $2, reply = COALESCE($3, reply), updated_at = $4, closed_at = CASE WHEN $2 = 'closed' THEN $4::timestamptz ELSE closed_at END WHERE id = $1`,
      [row.id, t.to, action === 'reply' ? note : null, this.now().toISOString()],
    );
    await this.step(tx, row.id, actor, t.action, note);
    const c = (await this.load(tx, row.id))!;
    const type = ({ accepted: 'case.accepted', in_progress: 'case.in_progress', replied: 'case.replied', closed: 'case.closed' } as const)[t.to as Exclude<CaseStatus, 'submitted'>];
    await this.o.onEvent?.({ eventId: `${row.id}:${c.round}:${t.to}`, type, caseId: row.id, at: this.now().toISOString(), case: c }, tx);
    return c;
  }

  /** The citizen's rating of one round; one rating per round. */
  async feedback(id: string, round: number, rating: Rating, comment?: string): Promise<Case> {
    if (!(RATINGS as readonly string[]).includes(rating)) throw new DeskError(`rating must be one of ${RATINGS.join(', ')}`, 400);
    return this.db.transaction(async (tx) => {
      const c = await this.load(tx, id);
      if (!c) throw new DeskError(`no case ${id}`, 404);
      const done = await tx.query('SELECT 1 FROM case_feedback WHERE case_id = $1 AND round = $2', [id, round]);
      if (done.rows.length) throw new DeskError(`round ${round} of case ${id} is already rated`, 409);
      await tx.query('INSERT INTO case_feedback (case_id, round, rating, comment) VALUES ($1, $2, $3, $4)', [id, round, rating, comment ?? null]);
      await this.step(tx, id, 'citizen', '评价', `${rating}${comment ? `：${comment}` : ''}`);
      return (await this.load(tx, id))!;
    });
  }

  /**
   * 三级回访: after a 差评, level 2 reopens the case to the unit head and the supervising
   * unit; level 3 sends it to the bureau leadership queue.
   */
  async escalate(id: string, level: 2 | 3, reason: string): Promise<Case> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<CaseRow>('SELECT * FROM cases WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (!row) throw new DeskError(`no case ${id}`, 404);
      if (level <= row.level) throw new DeskError(`case ${id} is already at level ${row.level}`, 409);
      const unit = level === 3 ? 'leadership' : row.supervising_unit;
      const due = new Date(this.now().getTime() + 72 * 3_600_000).toISOString();
      await tx.query(
        `UPDATE cases SET level = $2, round = round + 1, status = 'submitted', supervising_unit = $3, due_at = $4, updated_at = now(), closed_at = NULL WHERE id = $1`,
        [id, level, unit, due],
      );
      await this.step(tx, id, 'system', level === 2 ? '二级回访：重新办理' : '三级回访：报局领导', reason);
      return (await this.load(tx, id))!;
    });
  }

  /** The desk's working lists: not started, in progress, and overdue. */
  async lists(): Promise<{ notStarted: Case[]; inProgress: Case[]; overdue: Case[] }> {
    const now = this.now().toISOString();
    const ids = async (where: string, params: unknown[] = []) =>
      Promise.all((await this.db.query<{ id: string }>(`SELECT id FROM cases WHERE ${where} ORDER BY due_at`, params)).rows.map((r) => this.load(this.db, r.id).then((c) => c!)));
    return {
      notStarted: await ids("status = 'submitted'"),
      inProgress: await ids("status IN ('accepted', 'in_progress', 'replied')"),
      overdue: await ids("status <> 'closed' AND due_at < $1", [now]),
    };
  }

  private async step(tx: Queryable, caseId: string, actor: string, action: string, note?: string): Promise<void> {
    await tx.query('INSERT INTO case_steps (case_id, at, actor, action, note) VALUES ($1, $2, $3, $4, $5)', [caseId, this.now().toISOString(), actor, action, note ?? null]);
  }

  private async load(q: Queryable, id: string): Promise<Case | null> {
    const { rows } = await q.query<CaseRow>('SELECT * FROM cases WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) return null;
    const steps = await q.query<CaseStep & { at: Date | string }>('SELECT at, actor, action, note FROM case_steps WHERE case_id = $1 ORDER BY id', [id]);
    return {
      id: r.id,
      status: r.status,
      type: r.type,
      category: r.category,
      description: r.description,
      handlingUnit: this.unitName(r.handling_unit),
      supervisingUnit: this.unitName(r.supervising_unit),
      dueAt: iso(r.due_at),
      round: r.round,
      level: r.level,
      reply: r.reply ?? undefined,
      ...(r.repeat_of ? { repeatOf: r.repeat_of } : {}),
      createdAt: iso(r.created_at),
      steps: steps.rows.map((s) => ({ at: iso(s.at), actor: s.actor, action: s.action, ...(s.note ? { note: s.note } : {}) })),
    };
  }

  private unitName(id: string): string {
    if (id === 'leadership') return '市公安局领导（纪检督察、法制部门）';
    try {
      return this.router.unit(id).name;
    } catch {
      return id;
    }
  }

  /** The citizen's contact details of a case, for staff who call back; the caller audits each reveal. */
  async contact(id: string): Promise<{ mobile: string | null; name: string | null; consentToContact: boolean; channel: string | null } | null> {
    const { rows } = await this.db.query<{ citizen_mobile: string | null; citizen_name: string | null; consent: boolean; channel: string | null }>(
      'SELECT citizen_mobile, citizen_name, consent, channel FROM cases WHERE id = $1',
      [id],
    );
    const r = rows[0];
    return r ? { mobile: r.citizen_mobile || null, name: r.citizen_name || null, consentToContact: r.consent, channel: r.channel } : null;
  }
}
