/**
 * What 小安 remembers about one conversation between turns. Plain data, persisted as JSON,
 * changed only by the turn pipeline. It holds the topic only: what the citizen is owed (a
 * notice that found no open chat, a survey) lives in tables and survives a reset or expiry.
 */
import type { Emergency } from './understand/rule-intent.ts';
import type { Aspect } from '../knowledge-base/lexicon.ts';
import type { MenuItem } from './messages.ts';
import type { CaseType } from '../integrations/case-platform/types.ts';

/** `resubmit`: the draft looks like a case the citizen submitted minutes ago; is it a new matter? */
export type CaseStep = 'type' | 'description' | 'place' | 'mobile' | 'name' | 'consent' | 'confirm' | 'resubmit';

export interface CaseDraft {
  /**
   * The case's own identity (a random UUID), made when the summary is first shown: its
   * idempotency key, so a repeated 确认 of the same draft is the same case, and a new draft
   * is always a new one, whatever happened to the conversation in between.
   */
  id?: string;
  /** The earlier, similar submission (case number or provisional reference) asked about. */
  similarTo?: string;
  type?: CaseType;
  description?: string;
  place?: string;
  mobile?: string;
  name?: string;
  consent?: boolean;
}

export type Awaiting =
  | { kind: 'clarify'; candidates: string[] }
  | { kind: 'situation'; itemId: string; aspect: Aspect; /** The question asked, normalised: its answer is chosen by it once the 情形 is known. */ query?: string }
  | { kind: 'case'; step: CaseStep; draft: CaseDraft }
  | { kind: 'rating'; surveyId: number; caseId: string; round: number; level: number }
  | { kind: 'rating_reason'; surveyId: number; caseId: string; round: number; level: number; rating: string }
  /** Staff asked the citizen for more information on a case: their next message answers it. */
  | { kind: 'case_info'; caseId: string; requestId: number };

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
  /** The emergency told last, while the conversation stays with it (handlers/emergency.ts). */
  emergency?: Emergency & { at: string };
  /** A hash of the last answer, so that the same question asked again is not met by the same words alone. */
  lastAnswer?: string;
  /** 'en' while the citizen writes in English (replies follow); absent for Chinese. */
  lang?: 'en';
  /** Last place the citizen shared, for the nearest office. */
  location?: { lat: number; lng: number };
  lastAt?: string;
}

export const freshState = (): ConversationState => ({ recent: [] });

/**
 * Context expires after a silence: the item, pending questions and an unfinished case draft
 * are forgotten (what the citizen is owed is not here, so it is not).
 */
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

/**
 * Forgets the item (and a 情形 or clarification question about items) that the knowledge in
 * force no longer has: a release may remove or rename an item between two turns.
 */
export function forgetUnknownItems(state: ConversationState, has: (itemId: string) => boolean): ConversationState {
  const a = state.awaiting;
  const stale = (state.itemId && !has(state.itemId)) || (a?.kind === 'situation' && !has(a.itemId)) || (a?.kind === 'clarify' && !a.candidates.every(has));
  if (!stale) return state;
  const { itemId: _i, aspect: _a, situation: _s, ...rest } = state;
  const keepItem = state.itemId && has(state.itemId);
  return {
    ...rest,
    ...(keepItem ? { itemId: state.itemId, aspect: state.aspect, situation: state.situation } : {}),
    awaiting: a?.kind === 'situation' || a?.kind === 'clarify' ? undefined : a,
    menu: undefined,
  };
}
