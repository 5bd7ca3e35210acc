/**
 * A policy question about one item: the answer to the aspect asked (or an overview),
 * naming the source guide, then a follow-up menu. Where materials differ by 情形 and the
 * message does not say which applies, ask first.
 */
import { createHash } from 'node:crypto';
import type { Reply, Source } from '../bot/messages.ts';
import type { Situation } from '../knowledge-base/guide.ts';
import type { Aspect } from '../knowledge-base/lexicon.ts';
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { followUpMenu, noneOfTheseMenu, situationMenu } from './menus.ts';
import { officeReplies } from './offices.ts';
import { composeAnswer } from './policy-answer.ts';
import { currentLanguage, text } from './texts.ts';

/** Aspects whose answer lists materials, so the 情形 matters. */
const NEEDS_SITUATION: Aspect[] = ['general', 'materials'];

/** @param query the question, normalised (none for a menu pick): the guide lines that answer it are chosen by it. */
export function answerItem(ctx: HandlerContext, itemId: string, aspect: Aspect, situation: Situation | null | 'unknown', query = ''): HandlerOutput {
  const guide = ctx.deps.kb.index.guides.get(itemId)!;
  const item = { id: guide.id, name: guide.name };
  ctx.state.itemId = itemId;
  ctx.state.aspect = aspect;
  const english = ctx.deps.kb.set.english.get(guide.id);
  // A question typed while this item's 情形 menu is open is answered as a question (the
  // menu comes again after the answer), never met by the same menu alone.
  const menuOpen = ctx.state.awaiting?.kind === 'situation' && ctx.state.awaiting.itemId === itemId;
  if (situation === null && guide.situations.length && NEEDS_SITUATION.includes(aspect) && !menuOpen) {
    ctx.state.awaiting = { kind: 'situation', itemId, aspect, ...(query ? { query } : {}) };
    return { replies: [situationMenu(guide, english)], meta: { intent: 'answer', item, aspect } };
  }
  // Still open only while the answer depends on the 情形 (materials, the overview).
  const askAgain = menuOpen && situation === null && NEEDS_SITUATION.includes(aspect);
  ctx.state.awaiting = askAgain ? ctx.state.awaiting : undefined;
  const chosen = situation === 'unknown' ? null : situation;
  ctx.state.situation = chosen?.name;
  const { kb } = ctx.deps;
  const answer = composeAnswer(guide, { aspect, rules: kb.text.lexicon.aspects, situation: chosen, situationUnknown: situation === 'unknown', query, text: kb.text, english });
  // The same answer again means it did not help: say what else there is, not only the same words.
  const said = createHash('sha256').update(answer.text).digest('hex').slice(0, 16);
  const again = ctx.state.lastAnswer === said;
  ctx.state.lastAnswer = said;
  const replies: Reply[] = [{ type: 'text', text: again ? `${answer.text}\n${text('answer_again')}` : answer.text }];
  // Where to go: the guide says how; the office data says which offices.
  if (aspect === 'place' || itemId === 'fw-01') replies.push(...officeReplies(ctx, itemId, Boolean(ctx.state.location)));
  replies.push(askAgain ? situationMenu(guide, english) : followUpMenu(aspect));
  const sources: Source[] = answer.sources.map((s) => ({ ...s, itemName: guide.name }));
  // Offered to a chat model only when new and in Chinese (the English is the editors' own translation).
  const rephrasable = answer.units?.length && !again && currentLanguage() === 'zh'
    ? { replyIndex: 0, units: answer.units.map((u, i) => ({ n: i + 1, text: u.text, source: `《${guide.name}》办事指南·${u.section}` })) }
    : undefined;
  return { replies, meta: { intent: 'answer', item, aspect, sources }, ...(rephrasable ? { rephrasable } : {}) };
}

export function clarify(ctx: HandlerContext, candidates: Array<{ id: string; name: string }>, aspect: Aspect): HandlerOutput {
  ctx.state.awaiting = { kind: 'clarify', candidates: candidates.map((c) => c.id) };
  ctx.state.aspect = aspect;
  return {
    replies: [
      {
        type: 'menu',
        head: text('clarify'),
        items: [...candidates.map((c) => ({ id: `item:${c.id}`, label: (currentLanguage() === 'en' && ctx.deps.kb.set.english.get(c.id)?.name) || c.name })), { id: 'none', label: text('none_of_these') }],
      },
    ],
    meta: { intent: 'clarify' },
  };
}

export function noneOfThese(ctx: HandlerContext): HandlerOutput {
  ctx.state.awaiting = undefined;
  return { replies: [noneOfTheseMenu()], meta: { intent: 'clarify' } };
}
