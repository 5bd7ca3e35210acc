/** Not public-security business: say so and point to the right place. */
import type { HandlerOutput } from './handler.ts';
import { text } from './texts.ts';

export function handleOutOfScope(answer: string): HandlerOutput {
  return { replies: [{ type: 'text', text: answer }], meta: { intent: 'out_of_scope' } };
}

export function handleNotUnderstood(): HandlerOutput {
  return { replies: [{ type: 'text', text: text('clarify_none') }], meta: { intent: 'clarify' } };
}
