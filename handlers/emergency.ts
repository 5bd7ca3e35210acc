/**
 * An emergency: the number first, in plain text, never a menu first. Interrupts anything.
 * Then the conversation stays with it: what follows ("他还在门口", "怎么办") gets the number
 * again and what to do now, until the citizen asks about something else.
 */
import type { ConversationState } from '../bot/conversation-state.ts';
import type { Emergency } from '../bot/understand/rule-intent.ts';
import type { HandlerOutput } from './handler.ts';
import { currentLanguage, text } from './texts.ts';

/** How long after an emergency a message is still read as about it. */
export const EMERGENCY_HOLD_MINUTES = 30;

export function handleEmergency(e: Emergency, state?: ConversationState, now = new Date()): HandlerOutput {
  const en = currentLanguage() === 'en';
  const also = e.also.length ? text('emergency_also', { numbers: e.also.join('、') }) : '';
  if (state) state.emergency = { ...e, at: now.toISOString() };
  return {
    replies: [{ type: 'text', text: text('emergency', { number: e.number, reason: en ? e.reasonEn : e.reason, also, advice: en ? e.adviceEn : e.advice }) }],
    meta: { intent: 'emergency' },
  };
}

/** The emergency the conversation is still with, if any. */
export function heldEmergency(state: ConversationState, now = new Date()): Emergency | null {
  const e = state.emergency;
  if (!e) return null;
  if (now.getTime() - new Date(e.at).getTime() > EMERGENCY_HOLD_MINUTES * 60_000) {
    delete state.emergency;
    return null;
  }
  return e;
}

/** A message after an emergency that is not about something else: the number again, and what to do now. */
export function stayWithEmergency(e: Emergency): HandlerOutput {
  const en = currentLanguage() === 'en';
  return {
    replies: [{ type: 'text', text: text('emergency_again', { number: e.number, advice: en ? e.adviceEn : e.advice }) }],
    meta: { intent: 'emergency' },
  };
}
