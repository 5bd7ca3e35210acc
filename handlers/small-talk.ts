/** Greetings, thanks, goodbyes and venting: short, calm, polite. */
import type { HandlerOutput } from './handler.ts';
import { welcomeMenu } from './menus.ts';
import { text } from './texts.ts';

export function handleGreeting(message: string): HandlerOutput {
  if (/谢|thank|thx/i.test(message)) return { replies: [{ type: 'text', text: text('thanks') }], meta: { intent: 'greeting' } };
  if (/再见|拜拜|bye|晚安/i.test(message)) return { replies: [{ type: 'text', text: text('goodbye') }], meta: { intent: 'greeting' } };
  return { replies: [welcomeMenu()], meta: { intent: 'greeting' } };
}

export function handleAbuse(): HandlerOutput {
  return { replies: [{ type: 'text', text: text('abuse') }], meta: { intent: 'greeting' } };
}
