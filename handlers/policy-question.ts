/**
 * A policy question about one item: the answer to the aspect asked (or an overview),
 * naming the source guide, then a follow-up menu. Where materials differ by 情形 and the
 * message does not say which applies, ask first.
 */
import type { Reply, Source } from '../bot/messages.ts';
import type { Situation } from '../knowledge-base/guide.ts';
import type { Aspect } from '../knowledge-base/lexicon.ts';
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { followUpMenu, noneOfTheseMenu, situationMenu } from './menus.ts';
import { officeReplies } from './offices.ts';
import { composeAnswer } from './policy-answer.ts';
import { text } from './texts.ts';

/** Aspects whose answer lists materials, so the 情形 matters. */
const NEEDS_SITUATION: Aspect[] = ['general', 'materials'];

export function answerItem(ctx: HandlerContext, itemId: string, aspect: Aspect, situation: Situation | null | 'unknown'): HandlerOutput {
  const guide = ctx.deps.kb.index.guides.get(itemId)!;
  const item = { id: guide.id, name: guide.name };
  ctx.state.itemId = itemId;
  ctx.state.aspect = aspect;
  if (situation === null && guide.situations.length && NEEDS_SITUATION.includes(aspect)) {
    ctx.state.awaiting = { kind: 'situation', itemId, aspect };
    return { replies: [situationMenu(guide)], meta: { intent: 'answer', item, aspect } };
  }
  ctx.state.awaiting = undefined;
  const chosen = situation === 'unknown' ? null : situation;
  ctx.state.situation = chosen?.name;
  const answer = composeAnswer(guide, aspect, ctx.deps.kb.text.lexicon.aspects, chosen, situation === 'unknown');
  const replies: Reply[] = [{ type: 'text', text: answer.text }];
  // Where to go: the guide says how; the office data says which offices.
  if (aspect === 'place' || itemId === 'fw-01') replies.push(...officeReplies(ctx, itemId, Boolean(ctx.state.location)));
  replies.push(followUpMenu(aspect));
  const sources: Source[] = answer.sources.map((s) => ({ ...s, itemName: guide.name }));
  return { replies, meta: { intent: 'answer', item, aspect, sources } };
}

export function clarify(ctx: HandlerContext, candidates: Array<{ id: string; name: string }>, aspect: Aspect): HandlerOutput {
  ctx.state.awaiting = { kind: 'clarify', candidates: candidates.map((c) => c.id) };
  ctx.state.aspect = aspect;
  return {
    replies: [
      {
        type: 'menu',
        head: text('clarify'),
        items: [...candidates.map((c) => ({ id: `item:${c.id}`, label: c.name })), { id: 'none', label: text('none_of_these') }],
      },
    ],
    meta: { intent: 'clarify' },
  };
}

export function noneOfThese(ctx: HandlerContext): HandlerOutput {
  ctx.state.awaiting = undefined;
  return { replies: [noneOfTheseMenu()], meta: { intent: 'clarify' } };
}
