/**
 * One turn of the dialog: understand the message in the light of the conversation, pick
 * the handler, return its replies and effects. Pure decision-making: the engine around it
 * loads and saves state, persists messages and performs effects.
 *
 * Order: emergency (always, even while a human owns the chat) → silence while handed
 * over → non-text → menu choice → 重新开始 → a pending message → abuse → an emergency still
 * held (the number again, until the citizen moves on) → a pending 情形 → the question, read
 * with the current item as context.
 */
import { stripAspectWords } from '../knowledge-base/retrieval/aspect.ts';
import { detectSituation } from '../knowledge-base/retrieval/situation.ts';
import { situationAsked } from '../knowledge-base/answer-units.ts';
import type { Situation } from '../knowledge-base/guide.ts';
import type { Aspect } from '../knowledge-base/lexicon.ts';
import { handleEmergency, heldEmergency, stayWithEmergency } from '../handlers/emergency.ts';
import type { HandlerContext, HandlerOutput } from '../handlers/handler.ts';
import { handleHandoff } from '../handlers/handoff.ts';
import { continueCase, startCase } from '../handlers/case-dialog.ts';
import { answerCaseInfo } from '../handlers/case-info.ts';
import { handleProgress } from '../handlers/progress.ts';
import { continueRating } from '../handlers/satisfaction.ts';
import { welcomeMenu } from '../handlers/menus.ts';
import { handleNonText } from '../handlers/non-text.ts';
import { handleNotUnderstood, handleOutOfScope } from '../handlers/out-of-scope.ts';
import { answerItem, clarify, noneOfThese } from '../handlers/policy-question.ts';
import { handleAbuse, handleGreeting } from '../handlers/small-talk.ts';
import { text } from '../handlers/texts.ts';
import { ANSWER_AT, type AskResult } from './ask.ts';
import { freshState } from './conversation-state.ts';
import { maskPersonalNumbers } from './privacy.ts';
import { detectEmergency } from './understand/rule-intent.ts';

const RECENT = 5;
/** "那补办呢", "小孩的呢", "如果是外地的": a short message that moves to a sibling item. */
const SIBLING_CUE = /^(那|那么|那如果|如果是|要是)|呢[?？]?$/;

export async function runTurn(ctx: HandlerContext, handedOver: boolean): Promise<HandlerOutput> {
  const { inbound, state, deps } = ctx;
  const message = (inbound.text ?? '').trim();
  const { normalizer, lexicon } = deps.kb.text;
  const cleaned = normalizer.clean(message);

  if (message) {
    const emergency = detectEmergency(cleaned, lexicon.intents);
    if (emergency) return handleEmergency(emergency, state);
  }
  if (handedOver) return { replies: [], meta: { intent: 'silent' } };
  if (inbound.kind !== 'text' && inbound.kind !== 'menu') return handleNonText(ctx);

  if (inbound.kind === 'text' && message) state.recent = [...state.recent, maskPersonalNumbers(message)].slice(-RECENT);
  const menuId = inbound.menuId ?? pickFromMenu(state.menu, cleaned);
  // A rating for a closed case (menu, 1–5 or the words); anything else is a question.
  if (state.awaiting?.kind === 'rating' || state.awaiting?.kind === 'rating_reason') {
    const rated = await continueRating(ctx, { text: message, menuId });
    if (rated) return rated;
    state.awaiting = undefined;
  }
  // Staff asked for more information: the next words are the answer; a menu choice moves on.
  if (state.awaiting?.kind === 'case_info') {
    if (!menuId && message) return answerCaseInfo(ctx, message);
    state.awaiting = undefined;
  }
  // Inside the case dialog every answer belongs to it (its own menus included).
  if (state.awaiting?.kind === 'case' && (!menuId || menuId.startsWith('case:'))) return continueCase(ctx, { text: message, menuId });
  if (menuId) return handleMenu(ctx, menuId);
  if (!message) return handleNotUnderstood();
  if (lexicon.intents.restart.some((p) => p.test(cleaned))) {
    const location = state.location;
    for (const k of Object.keys(state)) delete (state as unknown as Record<string, unknown>)[k];
    Object.assign(state, freshState(), location ? { location } : {});
    return { replies: [{ type: 'text', text: text('restart') }, welcomeMenu()], meta: { intent: 'restart' } };
  }
  if (lexicon.intents.abuse.some((p) => p.test(cleaned))) return handleAbuse();

  // After an emergency, what follows stays with it unless it plainly asks about something else.
  const held = heldEmergency(state);
  if (held) {
    const r = await deps.asker.ask(message);
    const movedOn = (r.intent === 'answer' && r.confidence >= ANSWER_AT && r.namesService) || ['greeting', 'handoff', 'case', 'progress'].includes(r.intent);
    if (!movedOn) return { ...stayWithEmergency(held), asked: r };
    delete state.emergency;
    return answerQuestion(ctx, message, r);
  }

  if (state.awaiting?.kind === 'situation') {
    const guide = deps.kb.index.guides.get(state.awaiting.itemId)!;
    const s = detectSituation(guide, normalizer.normalize(message), normalizer);
    if (s) return answerItem(ctx, guide.id, state.awaiting.aspect, s, state.awaiting.query);
  }
  return answerQuestion(ctx, message);
}

async function answerQuestion(ctx: HandlerContext, message: string, asked?: AskResult): Promise<HandlerOutput> {
  const { state, deps } = ctx;
  const r = asked ?? (await deps.asker.ask(message));
  const meta = { candidates: r.candidates, aspect: r.aspect };
  const withMeta = (out: HandlerOutput): HandlerOutput => ({ ...out, asked: r, meta: { ...meta, ...out.meta } });

  // "要体检吗" after a licence answer is about the licence, not a hospital's.
  const inContext = state.itemId && r.intent === 'out_of_scope' && r.aspect !== 'general' ? await readInContext(ctx, message, r) : null;
  if (inContext && inContext.itemId === state.itemId) return withMeta(answerItem(ctx, inContext.itemId, inContext.aspect, inContext.situation, r.normalized));

  switch (r.intent) {
    case 'emergency': // already handled; kept for exhaustiveness
    case 'out_of_scope':
      return withMeta(handleOutOfScope(r.answer!.text));
    case 'handoff':
      return withMeta(handleHandoff(ctx));
    case 'greeting':
      return withMeta(handleGreeting(message));
    case 'case':
      return withMeta(startCase(ctx, message));
    case 'progress':
      return withMeta(await handleProgress(ctx));
    default:
      break;
  }

  const contextual = state.itemId ? await readInContext(ctx, message, r) : null;
  if (contextual) return withMeta(answerItem(ctx, contextual.itemId, contextual.aspect, contextual.situation, r.normalized));

  if (r.intent === 'answer' && r.item) {
    const guide = deps.kb.index.guides.get(r.item.id)!;
    const situation = situationAsked(guide, r.normalized, r.aspect, deps.kb.text);
    return withMeta(answerItem(ctx, r.item.id, r.aspect, situation, r.normalized));
  }
  const offered = r.candidates.filter((c) => c.score >= (r.candidates[0]?.score ?? 0) * 0.35);
  if (r.intent === 'clarify' && offered.length) return withMeta(clarify(ctx, offered, r.aspect));
  return withMeta(handleNotUnderstood());
}

/** What reading a message in context needs: the topic so far, the knowledge base and the asker. */
export type ContextReader = { state: Pick<HandlerContext['state'], 'itemId' | 'aspect' | 'situation'>; deps: Pick<HandlerContext['deps'], 'kb' | 'asker'> };

/**
 * The current item as context: "要多少钱" asks about it; "那补办呢" moves to its sibling;
 * "我是外地户口" names its 情形. Returns null when the message is a new question.
 * Also read by the hotline assistant (bot/assist/), with the context of a call.
 */
export async function readInContext(
  ctx: ContextReader,
  message: string,
  r: AskResult,
): Promise<{ itemId: string; aspect: Aspect; situation: Situation | null } | null> {
  const { state, deps } = ctx;
  const current = deps.kb.index.guides.get(state.itemId!)!;
  const namesService = r.namesService ?? deps.kb.terms.mentionedIn(r.normalized);
  const confidentElsewhere = r.intent === 'answer' && r.item && r.item.id !== current.id && namesService;

  // An aspect and nothing that names a service ("要多少钱", "多久能拿到"): about the current item.
  const rest = stripAspectWords(r.normalized, deps.kb.text.lexicon.aspects, false);
  if (!confidentElsewhere && r.aspect !== 'general' && !deps.kb.terms.mentionedIn(rest)) {
    return { itemId: current.id, aspect: r.aspect, situation: findSituation(current.situations, state.situation) };
  }
  // A short message that names no service ("小孩的呢", "那补办呢", "第一次办") is read
  // together with the current item's core name; it may stay on the item or move to a sibling.
  // "那护照呢" while on 身份证 names another service: a new question, not a sibling of this item.
  const currentName = deps.kb.text.normalizer.normalize(current.name);
  const namesOther = deps.kb.terms.named(r.normalized).some((t) => !currentName.includes(t) && !current.category.includes(t));

  // The citizen states their circumstance ("我25岁", "外地户口可以吗", "买家是外地的"): it
  // names the current item's 情形, or asks whether its conditions are met. Words that
  // describe the citizen ("外地户口") name no new service; any other service term does.
  const { circumstance: patterns, circumstanceAll } = deps.kb.text.lexicon.intents;
  const circumstance = patterns.some((p) => p.test(r.normalized));
  const beyond = circumstanceAll.reduce((t, p) => t.replace(p, ' '), r.normalized);
  const namesBeyond = deps.kb.terms.named(beyond).some((t) => !currentName.includes(t) && !current.category.includes(t));
  if (circumstance && !namesBeyond) {
    const named = detectSituation(current, r.normalized, deps.kb.text.normalizer);
    if (named) return { itemId: current.id, aspect: r.aspect !== 'general' ? r.aspect : (state.aspect ?? 'materials'), situation: named };
    return { itemId: current.id, aspect: r.aspect !== 'general' ? r.aspect : 'eligibility', situation: findSituation(current.situations, state.situation) };
  }
  if (!confidentElsewhere && !namesOther && [...message].length <= 15 && (SIBLING_CUE.test(message) || (!namesService && [...message].length <= 8))) {
    const core = coreName(ctx, current.name);
    const moved = await deps.asker.ask(`${core} ${message.replace(SIBLING_CUE, '')}`);
    const sibling = moved.candidates.find((c) => deps.kb.index.guides.get(c.id)?.category === current.category);
    const aspect = r.aspect !== 'general' ? r.aspect : (state.aspect ?? moved.aspect);
    if (sibling?.id === current.id) return { itemId: current.id, aspect, situation: findSituation(current.situations, state.situation) };
    if (sibling) {
      const guide = deps.kb.index.guides.get(sibling.id)!;
      return { itemId: sibling.id, aspect, situation: detectSituation(guide, moved.normalized, deps.kb.text.normalizer) };
    }
  }
  if (confidentElsewhere) return null;
  const situation = detectSituation(current, r.normalized, deps.kb.text.normalizer);
  if (r.aspect !== 'general' && (!namesService || r.item?.id === current.id || r.confidence < ANSWER_AT)) {
    return { itemId: current.id, aspect: r.aspect, situation: situation ?? findSituation(current.situations, state.situation) };
  }
  if (situation && !namesService) return { itemId: current.id, aspect: state.aspect ?? 'materials', situation };
  return null;
}

/** The item's name without its generic words: 普通护照首次申领 → 护照, 居民身份证首次申领 → 身份证. */
function coreName(ctx: ContextReader, name: string): string {
  const { tokenizer, normalizer, lexicon } = ctx.deps.kb.text;
  const generic = [...lexicon.genericWords].filter((g) => g.length > 1);
  const pieces = [...new Set(tokenizer.tokens(normalizer.normalize(name.replace(/[（(].*?[)）]/g, ''))))].filter(
    (p) => !lexicon.genericWords.has(p) && !generic.some((g) => p.includes(g)),
  );
  const core = pieces.filter((p) => !pieces.some((q) => q !== p && q.includes(p)));
  return core.join(' ') || name;
}

function findSituation(list: Situation[], name: string | undefined): Situation | null {
  return list.find((s) => s.name === name) ?? null;
}

/** A typed "2" or a typed label picks from the last menu. */
function pickFromMenu(menu: Array<{ id: string; label: string }> | undefined, cleaned: string): string | undefined {
  if (!menu?.length || !cleaned) return undefined;
  const n = /^\s*(\d{1,2})\s*[.、]?\s*$/.exec(cleaned);
  if (n) return menu[Number(n[1]) - 1]?.id;
  return menu.find((m) => m.label.toLowerCase() === cleaned)?.id;
}

async function handleMenu(ctx: HandlerContext, id: string): Promise<HandlerOutput> {
  const { state, deps } = ctx;
  const [action, arg] = [id.split(':')[0]!, id.slice(id.indexOf(':') + 1)];
  switch (action) {
    case 'item': {
      if (!deps.kb.index.guides.has(arg)) break;
      // The 情形 is not known yet for a newly chosen item: asked where it matters.
      return answerItem(ctx, arg, state.aspect ?? 'general', null);
    }
    case 'aspect':
      if (!state.itemId) break;
      return answerItem(ctx, state.itemId, arg as Aspect, findSituation(deps.kb.index.guides.get(state.itemId)!.situations, state.situation));
    case 'situation': {
      if (state.awaiting?.kind !== 'situation') break;
      const guide = deps.kb.index.guides.get(state.awaiting.itemId)!;
      const chosen = arg === 'unknown' ? 'unknown' : guide.situations[Number(arg)];
      if (!chosen) break;
      return answerItem(ctx, guide.id, state.awaiting.aspect, chosen, state.awaiting.query);
    }
    case 'none':
      return noneOfThese(ctx);
    case 'rephrase':
      state.awaiting = undefined;
      return { replies: [{ type: 'text', text: text('rephrase') }], meta: { intent: 'clarify' } };
    case 'handoff':
      return handleHandoff(ctx);
    case 'leave_message':
      return startCase(ctx);
    case 'continue':
      return { replies: [welcomeMenu()], meta: { intent: 'greeting' } };
    case 'ask':
      // A suggested question: asked as if typed (the menu is gone, so it cannot pick itself again).
      state.menu = undefined;
      return runTurn({ ...ctx, inbound: { ...ctx.inbound, kind: 'text', menuId: undefined, text: arg } }, false);
  }
  return handleNotUnderstood();
}
