/**
 * The case domain as the chat sees it: every call to the platform goes through the outbox.
 * A new case is tried once at once, briefly; if the platform is down or refuses us the
 * citizen gets a provisional reference, and the real case number is told when a later
 * attempt gets through. A case the platform finds invalid is held for staff, who correct
 * and resend it; the citizen is told so honestly. Ratings (好差评) are recorded here and
 * sent on as feedback and escalation.
 */
import { deliverDue, enqueue, getEntry, redactDelivered, resendEntry, type CallLimits, type Deliverer, type Delivery, type OutboxEntry } from '../store/outbox.ts';
import { answerSurvey, linkCase, recentSubmissions } from './store.ts';
import { maskPersonalNumbers } from '../privacy.ts';
import { fallbackLog, type Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { faultOf, faultOfStatus, statusOf, type CasePlatform } from '../../integrations/case-platform/platform.ts';
import { signCallback } from '../../integrations/case-platform/signature.ts';
import { SIMILAR_TEXT, similarity } from '../../integrations/case-platform/desk/desk.ts';
import { isBadRating, type Case, type NewCase, type Rating } from '../../integrations/case-platform/types.ts';

export interface CaseRequest {
  newCase: NewCase;
  /** Who to tell when the case number arrives. */
  channel: string;
  userId: string;
  /** The provisional reference the citizen was given, if the first try failed. */
  reference?: string;
}

export interface FeedbackCall {
  caseId: string;
  feedback: { round: number; rating: Rating; comment?: string };
}
export interface EscalateCall {
  caseId: string;
  escalation: { level: 2 | 3; reason: string };
}

export const provisionalReference = (outboxId: number) => `T${String(outboxId).padStart(6, '0')}`;

/**
 * What the citizen is told right after submitting: the case, or a provisional reference
 * while it waits for the platform, or (invalid) that staff are checking it first.
 */
export type Submitted = { kind: 'submitted'; case: Case } | { kind: 'provisional'; reference: string } | { kind: 'invalid'; reference: string };

/** Told once a case that had to wait for the platform is submitted. */
export type OnSubmitted = (request: CaseRequest, c: Case) => Promise<void> | void;
/** Told once when a waiting case is refused as invalid (held for staff); request.reference is set. */
export type OnInvalid = (request: CaseRequest, reason: string) => Promise<void> | void;

export interface CaseServiceOptions {
  onInvalid?: OnInvalid;
  /**
   * The try made while the citizen waits (submit, send, a staff resend): one attempt, this
   * short, no retries in line — the outbox retries in the background.
   */
  firstAttempt?: CallLimits;
  log?: Logger;
}

/** What staff may correct in a held case before resending it. */
export type CaseFix = Partial<Pick<NewCase, 'type' | 'description' | 'category' | 'place'>>;

export type Resent =
  | { kind: 'missing' }
  | { kind: 'already_done'; entry: OutboxEntry }
  /** Tried once: done, or pending (retried in the background), or invalid again. */
  | { kind: 'tried'; entry: OutboxEntry };

const FIRST_ATTEMPT: CallLimits = { timeoutMs: 2_000, retries: 0 };

/** How far back a confirmed draft is compared with the citizen's own submissions. */
export const RESUBMIT_WINDOW_MINUTES = 10;

const failure = (err: unknown): Delivery<never> => {
  const fault = faultOf(err);
  const status = statusOf(err) ?? undefined;
  return { ok: false, error: (err as Error).message, fault: fault === 'conflict' ? 'invalid' : fault, ...(status === undefined ? {} : { status }) };
};

export class CaseService {
  private readonly deliverers: Record<string, Deliverer>;
  private readonly onInvalid: OnInvalid;
  private readonly firstAttempt: CallLimits;
  private readonly log: Logger;

  constructor(
    readonly db: Database,
    readonly platform: CasePlatform,
    private readonly onLateSubmit: OnSubmitted = () => {},
    o: CaseServiceOptions = {},
  ) {
    this.onInvalid = o.onInvalid ?? (() => {});
    this.firstAttempt = o.firstAttempt ?? FIRST_ATTEMPT;
    this.log = o.log ?? fallbackLog();
    const attempt = async (call: () => Promise<unknown>, conflictIsDone = false): Promise<Delivery<unknown>> => {
      try {
        return { ok: true, result: await call() };
      } catch (err) {
        // A 409 to feedback or escalation means the platform has it already (our earlier try
        // got through but its answer was lost): that is delivered.
        if (conflictIsDone && faultOf(err) === 'conflict') return { ok: true, result: { alreadyThere: (err as Error).message } };
        return failure(err);
      }
    };
    this.deliverers = {
      create_case: (e, call) =>
        attempt(async () => {
          const request = e.payload as CaseRequest;
          const c = await platform.createCase(request.newCase, e.idempotencyKey, call);
          // Remember whose case it is, to tell them its result.
          await linkCase(db, c.id, request.channel, request.userId);
          return c;
        }),
      feedback: (e, call) =>
        attempt(() => {
          const p = e.payload as FeedbackCall;
          return platform.postFeedback(p.caseId, p.feedback, call);
        }, true),
      escalate: (e, call) =>
        attempt(() => {
          const p = e.payload as EscalateCall;
          return platform.escalate(p.caseId, p.escalation, call);
        }, true),
    };
  }

  /**
   * Where the built-in desk sends its signed callbacks (this server's own callback route),
   * known once the server listens.
   */
  useCallbacks(target: { url: string; secret: string }): void {
    this.deliverers.callback = async (e, call) => {
      const body = JSON.stringify(e.payload);
      const { timestamp, signature } = signCallback(target.secret, body);
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-timestamp': timestamp, 'x-signature': signature },
          body,
          signal: AbortSignal.timeout(call.timeoutMs ?? 5000),
        });
        if (res.ok) return { ok: true, result: { status: res.status } };
        const fault = faultOfStatus(res.status);
        return { ok: false, error: `callback answered ${res.status}`, status: res.status, fault: fault === 'conflict' ? 'invalid' : fault };
      } catch (err) {
        return { ok: false, error: `callback failed: ${(err as Error).message}`, status: 0, fault: 'transient' };
      }
    };
  }

  /** Feedback and escalation also go through the outbox; tried at once, briefly, retried if need be. */
  async send(kind: 'feedback', key: string, payload: FeedbackCall): Promise<boolean>;
  async send(kind: 'escalate', key: string, payload: EscalateCall): Promise<boolean>;
  async send(kind: string, key: string, payload: unknown): Promise<boolean> {
    const entry = await enqueue(this.db, kind, key, payload);
    if (entry.status === 'done') return true;
    const [tried] = await deliverDue(this.db, this.deliverers, { onlyId: entry.id, limit: 1, call: this.firstAttempt });
    return tried?.status === 'done';
  }

  /**
   * Stores the request, then tries it once, cut short after firstAttempt.timeoutMs (about
   * 2 s): the citizen is told at once. The key makes a repeated submit the same case.
   * It does not call onInvalid: it runs inside the citizen's turn, and the answer returned
   * (kind 'invalid') is what they are told.
   */
  async submit(request: CaseRequest, idempotencyKey: string): Promise<Submitted> {
    const entry = await enqueue(this.db, 'create_case', idempotencyKey, request);
    const reference = provisionalReference(entry.id);
    if (entry.status === 'done') return { kind: 'submitted', case: entry.result as Case };
    if (entry.status === 'invalid') return { kind: 'invalid', reference };
    const [tried] = await deliverDue(this.db, this.deliverers, { onlyId: entry.id, limit: 1, call: this.firstAttempt });
    if (tried?.status === 'done') return { kind: 'submitted', case: tried.result as Case };
    if (tried?.status === 'invalid') return { kind: 'invalid', reference };
    return { kind: 'provisional', reference };
  }

  /**
   * A submission of the citizen's within the last minutes that describes the same matter as
   * `description` (the same measure of "same matter" as the built-in desk), other than the
   * case `idempotencyKey` itself: its case number, or its provisional reference while it
   * waits. Null when there is none.
   */
  async similarRecent(channel: string, userId: string, description: string, idempotencyKey: string): Promise<string | null> {
    const masked = maskPersonalNumbers(description);
    const recent = await recentSubmissions(this.db, channel, userId, RESUBMIT_WINDOW_MINUTES, idempotencyKey);
    const same = recent.find((r) => similarity(r.description, masked) >= SIMILAR_TEXT);
    return same ? (same.caseId ?? provisionalReference(same.outboxId)) : null;
  }

  /**
   * Retries what is due (run on a timer); tells citizens whose case got through, and those
   * whose waiting case turned out invalid (once: not again after a staff resend).
   */
  async retryDue(now?: () => Date): Promise<OutboxEntry[]> {
    const tried = await deliverDue(this.db, this.deliverers, { now });
    await this.tell(tried);
    await redactDelivered(this.db);
    return tried;
  }

  /**
   * Staff correct a held (or blocked) entry and resend it: it is made due and tried once now.
   * A fix applies to create_case entries only (the fields of the new case).
   */
  async resend(id: number, by: string, fix?: CaseFix): Promise<Resent> {
    const entry = await resendEntry(this.db, id, by, fix && Object.keys(fix).length ? caseFixPatch(fix) : undefined);
    if (!entry) return { kind: 'missing' };
    if (entry.status === 'done') return { kind: 'already_done', entry };
    const tried = await deliverDue(this.db, this.deliverers, { onlyId: id, limit: 1, call: this.firstAttempt });
    await this.tell(tried);
    return { kind: 'tried', entry: tried[0] ?? (await getEntry(this.db, id))! };
  }

  private async tell(tried: OutboxEntry[]): Promise<void> {
    for (const e of tried) {
      if (e.kind !== 'create_case') continue;
      const request = { ...(e.payload as CaseRequest), reference: provisionalReference(e.id) };
      if (e.status === 'done') await this.onLateSubmit(request, e.result as Case);
      // An entry resent by staff was held before: its citizen knows already.
      else if (e.status === 'invalid' && !e.resentAt) await this.onInvalid(request, e.lastError ?? '');
    }
  }

  /** A case from the platform, or null when it cannot be read now (a survey still goes out). */
  async getCase(id: string): Promise<Case | null> {
    try {
      return await this.platform.getCase(id);
    } catch (e) {
      this.log.warn({ caseId: id, err: e }, 'case could not be read');
      return null;
    }
  }

  /**
   * Records the citizen's rating of one round and sends it on; a 差评 (with its reason)
   * escalates the case one level, up to 3. False when the round was rated already.
   */
  async rate(s: { surveyId: number; caseId: string; round: number; level: number }, rating: Rating, reason?: string): Promise<boolean> {
    if (!(await answerSurvey(this.db, s.surveyId, rating, reason ?? null, new Date()))) return false;
    await this.send('feedback', `feedback:${s.caseId}:${s.round}`, { caseId: s.caseId, feedback: { round: s.round, rating, ...(reason ? { comment: reason } : {}) } });
    if (isBadRating(rating) && s.level < 3) {
      const level = (s.level + 1) as 2 | 3;
      await this.send('escalate', `escalate:${s.caseId}:${level}`, { caseId: s.caseId, escalation: { level, reason: `${rating}：${reason ?? '未说明原因'}` } });
    }
    return true;
  }
}

/** A fix as a change of payload.newCase; an empty place removes it. */
function caseFixPatch(fix: CaseFix): { key: string; set: Record<string, unknown>; remove: string[] } {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(fix)) {
    if (v === undefined) continue;
    if (k === 'place' && v === '') remove.push(k);
    else set[k] = v;
  }
  return { key: 'newCase', set, remove };
}
