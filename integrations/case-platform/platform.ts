/**
 * The case platform as 小安 uses it: an external one over HTTP (client.ts) or the built-in
 * desk (desk/desk.ts), behind one interface so the chat does not care which.
 */
import { CasePlatformClient, CasePlatformError } from './client.ts';
import { DeskError, type CaseDesk } from './desk/desk.ts';
import type { Case, NewCase, Rating } from './types.ts';

export interface CasePlatform {
  readonly name: string;
  createCase(c: NewCase, idempotencyKey: string): Promise<Case>;
  getCase(id: string): Promise<Case | null>;
  listCases(citizenId: string): Promise<Case[]>;
  postFeedback(id: string, f: { round: number; rating: Rating; comment?: string }): Promise<Case>;
  escalate(id: string, e: { level: 2 | 3; reason: string }): Promise<Case>;
}

/** Whether an error may pass if the call is tried again later. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof CasePlatformError) return e.retryable;
  if (e instanceof DeskError) return false;
  return true;
}

export function externalPlatform(client: CasePlatformClient): CasePlatform {
  return {
    name: 'external',
    createCase: (c, key) => client.createCase(c, key),
    getCase: async (id) => {
      try {
        return await client.getCase(id);
      } catch (e) {
        if (e instanceof CasePlatformError && e.status === 404) return null;
        throw e;
      }
    },
    listCases: (citizenId) => client.listCases(citizenId),
    postFeedback: (id, f) => client.postFeedback(id, f),
    escalate: (id, e) => client.escalate(id, e),
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
  };
}
