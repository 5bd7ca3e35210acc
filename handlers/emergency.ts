/** An emergency: the number first, in plain text, never a menu first. Interrupts anything. */
import type { Emergency } from '../bot/understand/rule-intent.ts';
import type { HandlerOutput } from './handler.ts';
import { text } from './texts.ts';

export function handleEmergency(e: Emergency): HandlerOutput {
  const also = e.also.length ? text('emergency_also', { numbers: e.also.join('、') }) : '';
  return {
    replies: [{ type: 'text', text: text('emergency', { number: e.number, reason: e.reason, also }) }],
    meta: { intent: 'emergency' },
  };
}
