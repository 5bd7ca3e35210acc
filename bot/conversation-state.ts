/**
 * What 小安 remembers about one conversation between turns. Plain data, persisted as JSON,
 * changed only by the turn pipeline.
 */
import type { Aspect } from '../knowledge-base/lexicon.ts';
import type { MenuItem, Reply } from './messages.ts';
import type { CaseType } from '../integrations/case-platform/types.ts';

export type CaseStep = 'type' | 'description' | 'place' | 'mobile' | 'name' | 'consent' | 'confirm';

export interface CaseDraft {
  type?: CaseType;
  description?: string;
  place?: string;
  mobile?: string;
  name?: string;
  consent?: boolean;
}

export type Awaiting =
  | { kind: 'clarify'; candidates: string[] }
  | { kind: 'situation'; itemId: string; aspect: Aspect }
  | { kind: 'case'; step: CaseStep; draft: CaseDraft }
  | { kind: 'rating'; surveyId: number; caseId: string; round: number; level: number }
  | { kind: 'rating_reason'; surveyId: number; caseId: string; round: number; level: number; rating: string };

export interface ConversationState {
  /** The item being talked about, for follow-ups ("要多少钱"). */
  itemId?: string;
  aspect?: Aspect;
  situation?: string;
  awaiting?: Awaiting;
  /** The last menu shown, so "2" or a label typed by hand picks from it. */
  menu?: MenuItem[];
  /** The last few questions (masked), for hand-over summaries. */
  recent: string[];
  /** Last place the citizen shared, for the nearest office. */
  location?: { lat: number; lng: number };
  lastAt?: string;
  /** Cases submitted from this conversation, for idempotency keys. */
  casesSubmitted?: number;
  /** A satisfaction survey is waiting: the citizen had no open chat when the case closed. */
  surveyPending?: boolean;
  /** Notices that found no open chat (a case number that arrived late): shown at the next turn. */
  notices?: Reply[];
}

export const freshState = (): ConversationState => ({ recent: [] });

/** Context expires after a silence: the item and pending questions are forgotten. */
export function expire(state: ConversationState, now: Date, ttlMinutes: number): ConversationState {
  if (!state.lastAt) return state;
  const idle = (now.getTime() - new Date(state.lastAt).getTime()) / 60_000;
  return idle > ttlMinutes ? { ...freshState(), location: state.location } : state;
}

/** A short name for where the dialog stands, for the API and the tests. */
export function stateName(state: ConversationState, handedOver: boolean): string {
  if (handedOver) return 'handed_over';
  if (state.awaiting) return `awaiting_${state.awaiting.kind}`;
  return state.itemId ? 'in_item' : 'idle';
}
