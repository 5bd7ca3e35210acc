/**
 * The case platform as 小安 uses it: an external one over HTTP (client.ts) or the built-in
 * desk (desk/desk.ts), behind one interface so the chat does not care which.
 */
import { CasePlatformClient, CasePlatformError, type CallOptions } from './client.ts';
import { DeskError, type CaseDesk } from './desk/desk.ts';
import type { Case, NewCase, Rating } from './types.ts';

export type { CallOptions };

/** The calls that change something take per-call options (timeout, retries); the desk ignores them. */
export interface CasePlatform {
  readonly name: string;
  createCase(c: NewCase, idempotencyKey: string, o?: CallOptions): Promise<Case>;
  getCase(id: string): Promise<Case | null>;
  listCases(citizenId: string): Promise<Case[]>;
  postFeedback(id: string, f: { round: number; rating: Rating; comment?: string }, o?: CallOptions): Promise<Case>;
  escalate(id: string, e: { level: 2 | 3; reason: string }, o?: CallOptions): Promise<Case>;
  /**
   * The citizen's answer to a question staff asked them through the chat (the built-in desk
   * asks such questions; an external platform has none). False when it was answered already.
   */
  answerInfoRequest?(caseId: string, requestId: number, answer: string): Promise<boolean>;
}

/** Whether an error may pass if the call is tried again later. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof CasePlatformError) return e.retryable;
  if (e instanceof DeskError) return false;
  return true;
}

/**
 * What a failed call means for the outbox:
 * - transient: may pass by itself (no answer, a timeout, 5xx, 408);
 * - blocked: a refusal that is likely our configuration (401/403 after a key rotation, 404
 *   for a wrong base URL, 429 for a quota) — it passes once someone fixes it, so keep trying;
 * - invalid: the platform says the call itself is wrong (400, 422 and any other 4xx) — a
 *   person has to look at it;
 * - conflict: 409, the platform already has what we send (a retry after a lost answer).
 */
export type Fault = 'transient' | 'blocked' | 'invalid' | 'conflict';

export function faultOfStatus(status: number): Fault {
  if (status === 0 || status >= 500 || status === 408) return 'transient';
  if (status === 401 || status === 403 || status === 404 || status === 429) return 'blocked';
  if (status === 409) return 'conflict';
  return 'invalid';
}

/** The HTTP status behind an error (0: no answer), or null when it is not the platform's. */
export function statusOf(e: unknown): number | null {
  if (e instanceof CasePlatformError || e instanceof DeskError) return e.status;
  return null;
}

export function faultOf(e: unknown): Fault {
  // The built-in desk has no configuration to get wrong: a refusal of it is about the call.
  if (e instanceof DeskError) return e.status === 409 ? 'conflict' : 'invalid';
  const status = statusOf(e);
  // Anything else (our own store hiccuping after the call) is worth another try.
  return status === null ? 'transient' : faultOfStatus(status);
}

export function externalPlatform(client: CasePlatformClient): CasePlatform {
  return {
    name: 'external',
    createCase: (c, key, o) => client.createCase(c, key, o),
    getCase: async (id) => {
      try {
        return await client.getCase(id);
      } catch (e) {
        if (e instanceof CasePlatformError && e.status === 404) return null;
        throw e;
      }
    },
    listCases: (citizenId) => client.listCases(citizenId),
    postFeedback: (id, f, o) => client.postFeedback(id, f, o),
    escalate: (id, e, o) => client.escalate(id, e, o),
  };
}

export function deskPlatform(desk: CaseDesk): CasePlatform {
  return {
    name: 'desk',
    createCase: (c, key) => desk.create(c, key),
    getCase: (id) => desk.get(id),
    listCases: (citizenId) => desk.listForCitizen(citizenId),
    postFeedback: (id, f) => desk.feedback(id, f.round, f.rating, f.comment),
    escalate: (id, e) => desk.escalate(id, e.level, e.reason),
    answerInfoRequest: (caseId, requestId, answer) => desk.answerInfo(caseId, requestId, answer),
  };
}
