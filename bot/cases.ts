/**
 * Cases from the chat: every call to the platform goes through the outbox. A new case is
 * tried at once; if the platform is down the citizen gets a provisional reference, and the
 * real case number is pushed when a later attempt gets through.
 */
import { deliverDue, enqueue, type Deliverer, type OutboxEntry } from './store/outbox.ts';
import type { Database } from './store/database.ts';
import { isRetryable, type CasePlatform } from '../integrations/case-platform/platform.ts';
import type { Case, NewCase } from '../integrations/case-platform/types.ts';

export interface CaseRequest {
  newCase: NewCase;
  /** Who to tell when the case number arrives. */
  channel: string;
  userId: string;
  /** The provisional reference the citizen was given, if the first try failed. */
  reference?: string;
}

const provisionalReference = (outboxId: number) => `T${String(outboxId).padStart(6, '0')}`;

export type Submitted = { kind: 'submitted'; case: Case } | { kind: 'provisional'; reference: string };

/** Told once a case that had to wait for the platform is submitted. */
export type OnSubmitted = (request: CaseRequest, c: Case) => Promise<void> | void;

export class CaseService {
  private readonly deliverers: Record<string, Deliverer>;

  constructor(
    private readonly db: Database,
    readonly platform: CasePlatform,
    private readonly onLateSubmit: OnSubmitted = () => {},
  ) {
    this.deliverers = {
      create_case: async (e) => {
        try {
          return { ok: true, result: await platform.createCase((e.payload as CaseRequest).newCase, e.idempotencyKey) };
        } catch (err) {
          return { ok: false, error: (err as Error).message, retryable: isRetryable(err) };
        }
      },
    };
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
}
