/** 留言: take one message for staff, stored with the conversation summary. */
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { handoffSummary } from './handoff.ts';
import { text } from './texts.ts';

export function askForMessage(ctx: HandlerContext): HandlerOutput {
  ctx.state.awaiting = { kind: 'message' };
  return { replies: [{ type: 'text', text: text('leave_message_prompt') }], meta: { intent: 'leave_message' } };
}

export function takeMessage(ctx: HandlerContext, message: string): HandlerOutput {
  ctx.state.awaiting = undefined;
  return {
    // The reply with the message number is written by the engine once the message is stored.
    replies: [],
    effects: [{ type: 'message_left', text: message, summary: handoffSummary(ctx, 'leave_message') }],
    meta: { intent: 'leave_message' },
  };
}

export const messageLeftText = (id: number) => text('message_left', { id });
