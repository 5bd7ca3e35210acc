/**
 * The built-in case desk (诉求办理), used when no external platform is configured: the same
 * contract as openapi.yaml on 小安's own store. Cases are routed from their text; a repeat
 * within 30 days from the same citizen is added to their open case, one from another citizen
 * becomes that citizen's own case linked to the open one (handled with it, told and rated on
 * its own); every step is recorded with actor and time, and state changes are announced as
 * contract events (the signed callbacks). The working day's actions (assign, note, transfer,
 * return, ask the citizen) are here too; each is applied to the open repeats handled with the
 * case, and every change is announced after it commits (the console's live lists).
 */
import { StatusError } from '../../../bot/status-error.ts';
import type { Database, Queryable } from '../../../bot/store/database.ts';
import type { Case, CaseEvent, CaseStatus, CaseStep, NewCase, Rating } from '../types.ts';
import { RATINGS } from '../types.ts';
import type { CaseRouter } from './router.ts';
import { EVERY_CASE, scopeCondition, type CaseScope } from './scope.ts';
import { maskPersonalNumbers } from '../../../bot/privacy.ts';
import { Broadcast } from '../../../bot/broadcast.ts';

export const REPEAT_WINDOW_DAYS = 30;
/** Character-bigram overlap above which two descriptions are the same matter. */
export const SIMILAR_TEXT = 0.5;

export class DeskError extends StatusError {}

/** Steps kept for staff: never shown to the citizen (they may name another case or say why it moved). */
const INTERNAL_ACTIONS = new Set(['重复诉求', '并案', '内部备注', '指派', '转办', '退回']);

/** A change to a case, told after it commits: what the live lists need to know. */
export interface CaseChange {
  caseId: string;
  kind: 'created' | 'changed';
  action: string;
  handlingUnit: string;
  supervisingUnit: string;
  status: CaseStatus;
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
  assignee: string | null;
  due_at: Date | string;
  created_at: Date | string;
  updated_at: Date | string;
  closed_at: Date | string | null;
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

const STATUS_NAMES: Record<CaseStatus, string> = { submitted: '待受理', accepted: '已受理', in_progress: '办理中', replied: '已答复', closed: '已办结' };

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

export interface CaseContact {
  mobile: string | null;
  name: string | null;
  consentToContact: boolean;
  channel: string | null;
}

export interface InfoRequest {
  id: number;
  question: string;
  askedBy: string;
  askedAt: string;
  answer: string | null;
  answeredAt: string | null;
}

type Action = keyof typeof TRANSITIONS;

export class CaseDesk {
  /** Every change, after it commits (the console's live lists listen). */
  readonly changes = new Broadcast<CaseChange>();

  constructor(
    private readonly db: Database,
    readonly router: CaseRouter,
    private readonly o: DeskOptions = {},
  ) {}

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  /** Runs a change in one transaction, then tells onChanged of every case it touched. */
  private async change<T>(fn: (tx: Queryable, touched: CaseChange[]) => Promise<T>): Promise<T> {
    const touched: CaseChange[] = [];
    const result = await this.db.transaction((tx) => fn(tx, touched));
    for (const c of touched) this.changes.publish(c);
    return result;
  }

  private async touch(tx: Queryable, touched: CaseChange[], id: string, kind: CaseChange['kind'], action: string): Promise<void> {
    const { rows } = await tx.query<Pick<CaseRow, 'handling_unit' | 'supervising_unit' | 'status'>>('SELECT handling_unit, supervising_unit, status FROM cases WHERE id = $1', [id]);
    const r = rows[0];
    if (r) touched.push({ caseId: id, kind, action, handlingUnit: r.handling_unit, supervisingUnit: r.supervising_unit, status: r.status });
  }

  async create(given: NewCase, idempotencyKey: string): Promise<Case> {
    // Numbers in the citizen's words are masked here; only the contact fields keep theirs.
    const c: NewCase = { ...given, description: maskPersonalNumbers(given.description ?? ''), ...(given.place ? { place: maskPersonalNumbers(given.place) } : {}) };
    if (!c.description || [...c.description.trim()].length < 10) throw new DeskError('description must be at least 10 characters', 400);
    if (!/^1[3-9]\d{9}$/.test(c.citizen?.mobile ?? '')) throw new DeskError('citizen.mobile must be a mainland mobile number', 400);
    return this.change(async (tx, touched) => {
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
        await this.touch(tx, touched, repeat.id, 'changed', '重复诉求');
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
           handling_unit, supervising_unit, due_at, created_at, updated_at, repeat_of, assignee, assigned_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17, CASE WHEN $17::text IS NULL THEN NULL ELSE $15::timestamptz END)`,
        [id, idempotencyKey, c.citizen.id, c.citizen.mobile, c.citizen.name ?? null, c.citizen.consentToContact, c.channel ?? null, r.type,
          repeat?.category ?? r.category, c.description, c.place ?? null, handlingUnit, supervisingUnit, due.toISOString(), now.toISOString(), repeat?.id ?? null,
          repeat?.assignee ?? null],
      );
      await this.step(tx, id, 'system', '登记', `分拣：${r.type}·${repeat?.category ?? r.category}，承办 ${this.unitName(handlingUnit)}，督办 ${this.unitName(supervisingUnit)}`);
      // Internal steps (never shown to a citizen): each case names the other, not its text.
      if (repeat) {
        await this.step(tx, id, 'system', '并案', `与 ${repeat.id} 为同一事项，一并办理`);
        await this.step(tx, repeat.id, 'system', '并案', `另一位群众反映同一事项：${id}`);
        await this.touch(tx, touched, repeat.id, 'changed', '并案');
      }
      await this.touch(tx, touched, id, 'created', '登记');
      return (await this.load(tx, id))!;
    });
  }

  get(id: string): Promise<Case | null> {
    return this.load(this.db, id);
  }

  /** The units and assignee of a case, for the scoping of staff; null when there is none. */
  async units(id: string): Promise<{ handlingUnit: string; supervisingUnit: string; assignee: string | null; status: CaseStatus } | null> {
    const { rows } = await this.db.query<CaseRow>('SELECT handling_unit, supervising_unit, assignee, status FROM cases WHERE id = $1', [id]);
    const r = rows[0];
    return r ? { handlingUnit: r.handling_unit, supervisingUnit: r.supervising_unit, assignee: r.assignee, status: r.status } : null;
  }

  /** The citizen's own cases, with the steps a citizen may see. */
  async listForCitizen(citizenId: string): Promise<Case[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM cases WHERE citizen_id = $1 ORDER BY created_at DESC', [citizenId]);
    const cases = await Promise.all(rows.map((r) => this.load(this.db, r.id).then((c) => c!)));
    return cases.map((c) => ({ ...c, steps: c.steps?.filter((s) => !s.internal) }));
  }

  /**
   * A staff action: accept, start, reply (with the reply text) or close (with, optionally,
   * the result text the citizen will read, which replaces the reply). It is applied to the
   * open repeats linked to the case too (where the step fits their state), so every citizen
   * who reported the matter hears the result of their own case and is asked to rate it.
   * A person who accepts an unassigned case takes it (`assignTo`).
   */
  async act(id: string, action: Action, actor: string, note?: string, o: { result?: string; assignTo?: string } = {}): Promise<Case> {
    const t = TRANSITIONS[action];
    if (action === 'reply' && !note?.trim()) throw new DeskError('请填写答复内容', 400);
    if (o.result !== undefined && (action !== 'close' || !o.result.trim())) throw new DeskError(action === 'close' ? '请填写告知群众的办理结果' : '只有办结时可以填写办理结果 (result)', 400);
    return this.change(async (tx, touched) => {
      // Lock the row: two staff closing at once must not both succeed.
      const row = await this.locked(tx, id);
      if (!t.from.includes(row.status)) throw new DeskError(`诉求 ${id} 当前为“${STATUS_NAMES[row.status]}”，不能${t.action}`, 409);
      const rows = [row, ...(await this.openRepeats(tx, id, t.from))];
      let first: Case | null = null;
      for (const r of rows) {
        const c = await this.transition(tx, r, action, actor, note, o);
        await this.touch(tx, touched, r.id, 'changed', t.action);
        first ??= c;
      }
      return first!;
    });
  }

  private async locked(tx: Queryable, id: string): Promise<CaseRow> {
    const { rows } = await tx.query<CaseRow>('SELECT * FROM cases WHERE id = $1 FOR UPDATE', [id]);
    if (!rows[0]) throw new DeskError(`没有编号为 ${id} 的诉求`, 404);
    return rows[0];
  }

  private async openRepeats(tx: Queryable, id: string, states: CaseStatus[] = ['submitted', 'accepted', 'in_progress', 'replied']): Promise<CaseRow[]> {
    return (await tx.query<CaseRow>('SELECT * FROM cases WHERE repeat_of = $1 AND id <> $1 AND status = ANY($2) ORDER BY id FOR UPDATE', [id, states])).rows;
  }

  private async transition(tx: Queryable, row: CaseRow, action: Action, actor: string, note: string | undefined, o: { result?: string; assignTo?: string }): Promise<Case> {
    const t = TRANSITIONS[action];
    const reply = action === 'reply' ? note : action === 'close' && o.result !== undefined ? o.result.trim() : null;
    const takes = action === 'accept' && o.assignTo && !row.assignee ? o.assignTo : null;
    await tx.query(
      `UPDATE cases SET status = $2, reply = COALESCE($3, reply), updated_at = $4,
         closed_at = CASE WHEN $2 = 'closed' THEN $4::timestamptz ELSE closed_at END,
         assignee = COALESCE($5, assignee), assigned_at = CASE WHEN $5::text IS NULL THEN assigned_at ELSE $4::timestamptz END
       WHERE id = $1`,
      [row.id, t.to, reply, this.now().toISOString(), takes],
    );
    await this.step(tx, row.id, actor, t.action, action === 'close' && o.result !== undefined ? (note ? `${note}\n办理结果：${o.result.trim()}` : `办理结果：${o.result.trim()}`) : note);
    if (takes) await this.step(tx, row.id, actor, '指派', `由 ${await this.staffName(tx, takes)} 办理`);
    const c = (await this.load(tx, row.id))!;
    const type = ({ accepted: 'case.accepted', in_progress: 'case.in_progress', replied: 'case.replied', closed: 'case.closed' } as const)[t.to as Exclude<CaseStatus, 'submitted'>];
    await this.o.onEvent?.({ eventId: `${row.id}:${c.round}:${t.to}`, type, caseId: row.id, at: this.now().toISOString(), case: c }, tx);
    return c;
  }

  /** Gives an open case (and its open repeats) to a handler of the unit, or takes it back to the unit (null). */
  async assign(id: string, assignee: string | null, actor: string): Promise<Case> {
    return this.change(async (tx, touched) => {
      const row = await this.locked(tx, id);
      if (row.status === 'closed') throw new DeskError(`诉求 ${id} 已办结`, 409);
      for (const r of [row, ...(await this.openRepeats(tx, id))]) {
        await tx.query('UPDATE cases SET assignee = $2, assigned_at = $3, updated_at = $3 WHERE id = $1', [r.id, assignee, this.now().toISOString()]);
        await this.step(tx, r.id, actor, '指派', assignee ? `由 ${await this.staffName(tx, assignee)} 办理` : '退回本单位待分配');
        await this.touch(tx, touched, r.id, 'changed', '指派');
      }
      return (await this.load(tx, id))!;
    });
  }

  /** Handlers a case of this unit may be given to: enabled, role handler, of the unit or a unit above it. */
  async colleagues(unit: string): Promise<Array<{ username: string; displayName: string | null; unit: string }>> {
    const above: string[] = [];
    for (let u: string | undefined = unit; u && this.router.has(u); u = this.router.unit(u).parent) above.push(u);
    const { rows } = await this.db.query<{ username: string; display_name: string | null; unit: string }>(
      `SELECT username, display_name, unit FROM staff_users WHERE NOT disabled AND 'handler' = ANY(roles) AND unit = ANY($1) ORDER BY unit = $2 DESC, username`,
      [above, unit],
    );
    return rows.map((x) => ({ username: x.username, displayName: x.display_name, unit: x.unit }));
  }

  /** A staff member as colleagues know them: 钱警官（qian）, or the username. */
  private async staffName(q: Queryable, username: string): Promise<string> {
    const { rows } = await q.query<{ display_name: string | null }>('SELECT display_name FROM staff_users WHERE username = $1', [username]);
    const name = rows[0]?.display_name;
    return name ? `${name}（${username}）` : username;
  }

  /** An internal working note: never shown to the citizen. */
  async addNote(id: string, note: string, actor: string): Promise<Case> {
    if (!note.trim()) throw new DeskError('请填写备注内容', 400);
    return this.change(async (tx, touched) => {
      await this.locked(tx, id);
      await this.step(tx, id, actor, '内部备注', maskPersonalNumbers(note.trim()));
      await tx.query('UPDATE cases SET updated_at = $2 WHERE id = $1', [id, this.now().toISOString()]);
      await this.touch(tx, touched, id, 'changed', '内部备注');
      return (await this.load(tx, id))!;
    });
  }

  /**
   * Sends an open case (and its open repeats) to another unit, which accepts it anew: the
   * due date stays (the time limit keeps running), the assignee goes. `return` sends it back
   * to the dispatcher (分拣) to be routed again.
   */
  async transfer(id: string, toUnit: string | 'dispatcher', reason: string, actor: string): Promise<Case> {
    if (!reason.trim()) throw new DeskError(toUnit === 'dispatcher' ? '请填写退回原因' : '请填写转办原因', 400);
    const back = toUnit === 'dispatcher';
    const to = back ? this.router.dispatcher.id : toUnit;
    if (!this.router.has(to)) throw new DeskError(`没有单位 ${to}`, 400);
    return this.change(async (tx, touched) => {
      const row = await this.locked(tx, id);
      if (row.status === 'closed') throw new DeskError(`诉求 ${id} 已办结`, 409);
      if (row.handling_unit === to) throw new DeskError(back ? `诉求 ${id} 已在分拣单位` : `诉求 ${id} 已由${this.unitName(to)}承办`, 409);
      const action = back ? '退回' : '转办';
      for (const r of [row, ...(await this.openRepeats(tx, id))]) {
        // A level-3 case stays under the bureau's leadership; otherwise the new unit's supervisor follows it.
        const supervising = r.level === 3 ? r.supervising_unit : this.router.unit(to).supervisor;
        await tx.query(
          `UPDATE cases SET handling_unit = $2, supervising_unit = $3, status = 'submitted', assignee = NULL, assigned_at = NULL, updated_at = $4 WHERE id = $1`,
          [r.id, to, supervising, this.now().toISOString()],
        );
        await this.step(tx, r.id, actor, action, `${this.unitName(r.handling_unit)} → ${this.unitName(to)}：${maskPersonalNumbers(reason.trim())}`);
        await this.touch(tx, touched, r.id, 'changed', action);
      }
      return (await this.load(tx, id))!;
    });
  }

  /** A question for the citizen of an open case (sent through their chat by the caller). */
  async requestInfo(id: string, question: string, actor: string): Promise<{ request: InfoRequest; case: Case }> {
    if (!question.trim()) throw new DeskError('请填写需要群众补充的问题', 400);
    return this.change(async (tx, touched) => {
      const row = await this.locked(tx, id);
      if (row.status === 'closed') throw new DeskError(`诉求 ${id} 已办结`, 409);
      const now = this.now().toISOString();
      const { rows } = await tx.query<{ id: string }>('INSERT INTO case_info_requests (case_id, question, asked_by, asked_at) VALUES ($1, $2, $3, $4) RETURNING id', [
        id,
        question.trim(),
        actor,
        now,
      ]);
      await this.step(tx, id, actor, '请群众补充', question.trim());
      await tx.query('UPDATE cases SET updated_at = $2 WHERE id = $1', [id, now]);
      await this.touch(tx, touched, id, 'changed', '请群众补充');
      const request = (await this.infoRequests(tx, id)).find((r) => r.id === Number(rows[0]!.id))!;
      return { request, case: (await this.load(tx, id))! };
    });
  }

  /** The citizen's answer to a request: attached to the case (masked). False when it was answered already. */
  async answerInfo(id: string, requestId: number, answer: string): Promise<boolean> {
    return this.change(async (tx, touched) => {
      const masked = maskPersonalNumbers(answer.trim());
      const { rows } = await tx.query('UPDATE case_info_requests SET answer = $3, answered_at = $4 WHERE id = $1 AND case_id = $2 AND answer IS NULL RETURNING id', [
        requestId,
        id,
        masked,
        this.now().toISOString(),
      ]);
      if (!rows.length) return false;
      await this.step(tx, id, 'citizen', '群众补充', masked);
      await tx.query('UPDATE cases SET updated_at = $2 WHERE id = $1', [id, this.now().toISOString()]);
      await this.touch(tx, touched, id, 'changed', '群众补充');
      return true;
    });
  }

  async infoRequests(q: Queryable, id: string): Promise<InfoRequest[]> {
    const { rows } = await q.query<{ id: string; question: string; asked_by: string; asked_at: Date | string; answer: string | null; answered_at: Date | string | null }>(
      'SELECT id, question, asked_by, asked_at, answer, answered_at FROM case_info_requests WHERE case_id = $1 ORDER BY id',
      [id],
    );
    return rows.map((r) => ({ id: Number(r.id), question: r.question, askedBy: r.asked_by, askedAt: iso(r.asked_at), answer: r.answer, answeredAt: r.answered_at ? iso(r.answered_at) : null }));
  }

  /** The citizen's rating of one round; one rating per round. */
  async feedback(id: string, round: number, rating: Rating, comment?: string): Promise<Case> {
    if (!(RATINGS as readonly string[]).includes(rating)) throw new DeskError(`rating must be one of ${RATINGS.join(', ')}`, 400);
    return this.change(async (tx, touched) => {
      const c = await this.load(tx, id);
      if (!c) throw new DeskError(`no case ${id}`, 404);
      const done = await tx.query('SELECT 1 FROM case_feedback WHERE case_id = $1 AND round = $2', [id, round]);
      if (done.rows.length) throw new DeskError(`round ${round} of case ${id} is already rated`, 409);
      await tx.query('INSERT INTO case_feedback (case_id, round, rating, comment) VALUES ($1, $2, $3, $4)', [id, round, rating, comment ?? null]);
      await this.step(tx, id, 'citizen', '评价', `${rating}${comment ? `：${comment}` : ''}`);
      await this.touch(tx, touched, id, 'changed', '评价');
      return (await this.load(tx, id))!;
    });
  }

  /**
   * 三级回访: after a 差评, level 2 reopens the case to the unit head and the supervising
   * unit; level 3 sends it to the bureau leadership queue.
   */
  async escalate(id: string, level: 2 | 3, reason: string): Promise<Case> {
    return this.change(async (tx, touched) => {
      const row = await this.locked(tx, id);
      if (level <= row.level) throw new DeskError(`case ${id} is already at level ${row.level}`, 409);
      const unit = level === 3 ? 'leadership' : row.supervising_unit;
      const due = new Date(this.now().getTime() + 72 * 3_600_000).toISOString();
      await tx.query(
        `UPDATE cases SET level = $2, round = round + 1, status = 'submitted', supervising_unit = $3, due_at = $4, updated_at = now(), closed_at = NULL WHERE id = $1`,
        [id, level, unit, due],
      );
      await this.step(tx, id, 'system', level === 2 ? '二级回访：重新办理' : '三级回访：报局领导', reason);
      await this.touch(tx, touched, id, 'changed', level === 2 ? '二级回访' : '三级回访');
      return (await this.load(tx, id))!;
    });
  }

  /** The desk's working lists within a scope: not started, in progress, and overdue. */
  async lists(scope: CaseScope = EVERY_CASE): Promise<{ notStarted: Case[]; inProgress: Case[]; overdue: Case[] }> {
    const ids = async (where: string) => {
      const params: unknown[] = [];
      const bind = (v: unknown) => `$${params.push(v)}`;
      const sql = `SELECT id FROM cases WHERE ${scopeCondition(scope, bind)} AND ${where.replace('$now', () => bind(this.now().toISOString()))} ORDER BY due_at`;
      const { rows } = await this.db.query<{ id: string }>(sql, params);
      return Promise.all(rows.map((r) => this.load(this.db, r.id).then((c) => c!)));
    };
    return {
      notStarted: await ids("status = 'submitted'"),
      inProgress: await ids("status IN ('accepted', 'in_progress', 'replied')"),
      overdue: await ids("status <> 'closed' AND due_at < $now"),
    };
  }

  private async step(tx: Queryable, caseId: string, actor: string, action: string, note?: string): Promise<void> {
    await tx.query('INSERT INTO case_steps (case_id, at, actor, action, note, internal) VALUES ($1, $2, $3, $4, $5, $6)', [
      caseId,
      this.now().toISOString(),
      actor,
      action,
      note ?? null,
      INTERNAL_ACTIONS.has(action),
    ]);
  }

  private async load(q: Queryable, id: string): Promise<Case | null> {
    const { rows } = await q.query<CaseRow>('SELECT * FROM cases WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) return null;
    const steps = await q.query<CaseStep & { at: Date | string; internal: boolean }>('SELECT at, actor, action, note, internal FROM case_steps WHERE case_id = $1 ORDER BY id', [id]);
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
      steps: steps.rows.map((s) => ({ at: iso(s.at), actor: s.actor, action: s.action, ...(s.note ? { note: s.note } : {}), ...(s.internal ? { internal: true } : {}) })),
    };
  }

  unitName(id: string): string {
    return this.router.has(id) ? this.router.unit(id).name : id;
  }

  /** The citizen's contact details of a case, for staff who call back; the caller audits each reveal. */
  async contact(id: string): Promise<CaseContact | null> {
    const { rows } = await this.db.query<{ citizen_mobile: string | null; citizen_name: string | null; consent: boolean; channel: string | null }>(
      'SELECT citizen_mobile, citizen_name, consent, channel FROM cases WHERE id = $1',
      [id],
    );
    const r = rows[0];
    return r ? { mobile: r.citizen_mobile || null, name: r.citizen_name || null, consentToContact: r.consent, channel: r.channel } : null;
  }
}
