/**
 * 好差评 in the chat: the result of a closed case and a five-level rating; a 差评 asks why,
 * records it and escalates (level 2, then level 3). One rating per handling round.
 */
import type { Reply } from '../bot/messages.ts';
import { isBadRating, RATINGS, type Case, type Rating } from '../integrations/case-platform/types.ts';
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { text } from './texts.ts';

/** Longest first, so 非常不满意 is not read as 满意. */
const BY_LENGTH = [...RATINGS].sort((a, b) => b.length - a.length);

export function ratingMenu(head = text('survey_head')): Reply {
  return { type: 'menu', head, items: RATINGS.map((r) => ({ id: `rate:${r}`, label: r })) };
}

export function surveyReplies(c: Pick<Case, 'id' | 'reply'>): Reply[] {
  return [{ type: 'text', text: text('survey_result', { id: c.id, reply: c.reply ?? '已办结' }) }, ratingMenu()];
}

export function reminderReplies(caseId: string): Reply[] {
  return [ratingMenu(`${text('survey_reminder', { id: caseId })}\n${text('survey_head')}`)];
}

export function parseRating(input: { text?: string; menuId?: string }): Rating | null {
  if (input.menuId?.startsWith('rate:')) {
    const r = input.menuId.slice(5);
    return (RATINGS as readonly string[]).includes(r) ? (r as Rating) : null;
  }
  const t = (input.text ?? '').trim();
  return BY_LENGTH.find((r) => t.includes(r)) ?? null;
}

export async function continueRating(ctx: HandlerContext, input: { text?: string; menuId?: string }): Promise<HandlerOutput | null> {
  const a = ctx.state.awaiting;
  const { cases } = ctx.deps;
  if (a?.kind === 'rating') {
    const rating = parseRating(input);
    // Not a rating: let the message be handled as a question; the survey stays open.
    if (!rating) return null;
    if (isBadRating(rating)) {
      ctx.state.awaiting = { ...a, kind: 'rating_reason', rating };
      return { replies: [{ type: 'text', text: text('survey_reason') }], meta: { intent: 'case' } };
    }
    ctx.state.awaiting = undefined;
    await cases.rate(a, rating);
    return { replies: [{ type: 'text', text: text('survey_thanks') }], meta: { intent: 'case' } };
  }
  if (a?.kind === 'rating_reason') {
    const reason = (input.text ?? '').trim().slice(0, 1000) || '未说明原因';
    ctx.state.awaiting = undefined;
    const rating = a.rating as Rating;
    await cases.rate(a, rating, reason);
    const key = a.level >= 2 ? 'survey_escalated_3' : 'survey_escalated_2';
    return { replies: [{ type: 'text', text: text(key, { rating, unit: '督办单位' }) }], meta: { intent: 'case' } };
  }
  return null;
}
