/**
 * 转人工: record the request with a summary in the hand-over queue. With a human channel
 * within service hours the chat is handed over (the bot then stays silent); outside them,
 * 小安 says the hours and offers to take a message (留言); with no human channel, it offers
 * 留言 without promising hours.
 */
import type { HandoffSummary } from '../bot/messages.ts';
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { text } from './texts.ts';

export function handoffSummary(ctx: HandlerContext, intent: string): HandoffSummary {
  const g = ctx.state.itemId ? ctx.deps.kb.index.guides.get(ctx.state.itemId) : undefined;
  return {
    intent,
    item: g ? { id: g.id, name: g.name } : null,
    ...(g && ctx.state.situation ? { situation: ctx.state.situation } : {}),
    lastQuestions: ctx.state.recent.slice(-3),
  };
}

export function handleHandoff(ctx: HandlerContext): HandlerOutput {
  const summary = handoffSummary(ctx, 'handoff');
  ctx.state.awaiting = undefined;
  if (ctx.deps.handoffMode === 'queue' && ctx.deps.serviceOpen()) {
    return {
      replies: [{ type: 'text', text: text('handoff_queued') }],
      effects: [{ type: 'handoff_requested', summary, queued: true }],
      meta: { intent: 'handoff' },
      handedOver: true,
    };
  }
  return {
    replies: [
      {
        type: 'menu',
        // Outside the hours, the hours are told; with no human channel at all, they are not promised.
        head: ctx.deps.handoffMode === 'queue' ? text('handoff_unavailable', { hours: ctx.deps.serviceHours }) : text('handoff_not_offered'),
        items: [
          { id: 'leave_message', label: text('handoff_options.leave_message') },
          { id: 'continue', label: text('handoff_options.continue') },
        ],
      },
    ],
    effects: [{ type: 'handoff_requested', summary, queued: false }],
    meta: { intent: 'handoff' },
  };
}
