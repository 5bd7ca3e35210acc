/**
 * The case domain as the chat sees it: every call to the platform goes through the outbox.
 * A new case is tried at once; if the platform is down the citizen gets a provisional
 * reference, and the real case number is told when a later attempt gets through. Ratings
 * (好差评) are recorded here and sent on as feedback and escalation.
 */
import { deliverDue, enqueue, type Deliverer, type OutboxEntry } from '../store/outbox.ts';
import { answerSurvey, linkCase } from './store.ts';
import type { Database } from '../store/database.ts';
import { isRetryable, type CasePlatform } from '../../integrations/case-platform/platform.ts';
import { signCallback } from '../../integrations/case-platform/signature.ts';
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

const provisionalReference = (outboxId: number) => `T${String(outboxId).padStart(6, '0')}`;

export type Submitted = { kind: 'submitted'; case: Case } | { kind: 'provisional'; reference: string };

/** Told once a case that had to wait for the platform is submitted. */
export type OnSubmitted = (request: CaseRequest, c: Case) => Promise<void> | void;

export class CaseService {
  private readonly deliverers: Record<string, Deliverer>;

  constructor(
    readonly db: Database,
    readonly platform: CasePlatform,
    private readonly onLateSubmit: OnSubmitted = () => {},
  ) {
    const attempt = async (call: () => Promise<unknown>) => {
      try {
        return { ok: true as const, result: await call() };
      } catch (err) {
        return { ok: false as const, error: (err as Error).message, retryable: isRetryable(err) };
      }
    };
    this.deliverers = {
      create_case: (e) =>
        attempt(async () => {
          const request = e.payload as CaseRequest;
          const c = await platform.createCase(request.newCase, e.idempotencyKey);
          // Remember whose case it is, to tell them its result.
          await linkCase(db, c.id, request.channel, request.userId);
          return c;
        }),
      feedback: (e) => attempt(() => { const p = e.payload as FeedbackCall; return platform.postFeedback(p.caseId, p.feedback); }),
      escalate: (e) => attempt(() => { const p = e.payload as EscalateCall; return platform.escalate(p.caseId, p.escalation); }),
    };
  }

  /**
   * Where the built-in desk sends its signed callbacks (this server's own callback route),
   * known once the server listens.
   */
  useCallbacks(target: { url: string; secret: string }): void {
    this.deliverers.callback = async (e) => {
      const body = JSON.stringify(e.payload);
      const { timestamp, signature } = signCallback(target.secret, body);
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-timestamp': timestamp, 'x-signature': signature },
          body,
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) return { ok: true, result: { status: res.status } };
        return { ok: false, error: `callback answered ${res.status}`, retryable: res.status >= 500 || res.status === 429 };
      } catch (err) {
        return { ok: false, error: `callback failed: ${(err as Error).message}`, retryable: true };
      }
    };
  }

  /** Feedback and escalation also go through the outbox; tried at once, retried if need be. */
  async send(kind: 'feedback', key: string, payload: FeedbackCall): Promise<boolean>;
  async send(kind: 'escalate', key: string, payload: EscalateCall): Promise<boolean>;
  async send(kind: string, key: string, payload: unknown): Promise<boolean> {
    const entry = await enqueue(this.db, kind, key, payload);
    if (entry.status === 'done') return true;
    const [tried] = await deliverDue(this.db, this.deliverers, { onlyId: entry.id, limit: 1 });
    return tried?.status === 'done';
  }

  /** Stores the request, then tries it once. The key makes a repeated submit the same case. */
  async submit(request: CaseRequest, idempotencyKey: string): Promise<Submitted> {
    const entry = await enqueue(this.db, 'create_case', idempotencyKey, request);
    if (entry.status === 'done') return { kind: 'submitted', case: entry.result as Case };
    const [tried] = await deliverDue(this.db, this.deliverers, { onlyId: entry.id, limit: 1 });
    if (tried?.status === 'done') return { kind: 'submitted', case: tried.result as Case };
    return { kind: 'provisional', reference: provisionalReference(entry.id) };
  }

  /** Retries what is due (run on a timer); tells citizens whose case got through. */
  async retryDue(now?: () => Date): Promise<OutboxEntry[]> {
    const done = await deliverDue(this.db, this.deliverers, { now });
    for (const e of done) {
      if (e.status === 'done' && e.kind === 'create_case') {
        await this.onLateSubmit({ ...(e.payload as CaseRequest), reference: provisionalReference(e.id) }, e.result as Case);
      }
    }
    return done;
  }

  /** A case from the platform, or null when it cannot be read now (a survey still goes out). */
  async getCase(id: string): Promise<Case | null> {
    try {
      return await this.platform.getCase(id);
    } catch (e) {
      console.warn(`case ${id} could not be read: ${(e as Error).message}`);
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
