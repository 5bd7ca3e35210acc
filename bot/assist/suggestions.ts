/**
 * What to tell a caller: from one utterance (and the call's context) up to three
 * suggestions, best first, each a short answer to read out on the phone, quoted from one
 * official guide and naming it, with the 情形 questions to ask the caller. Below the
 * confidence threshold there is no suggestion at all: the page says 无可靠答案.
 *
 * Pure decision-making over the knowledge base; the assistant around it keeps the call's
 * context and the log.
 */
import { composeAnswer, ONLINE } from '../../handlers/policy-answer.ts';
import { inLanguage } from '../../handlers/texts.ts';
import type { Guide, SectionName, Situation } from '../../knowledge-base/guide.ts';
import type { Aspect } from '../../knowledge-base/lexicon.ts';
import { chooseUnits } from '../../knowledge-base/answer-units.ts';
import type { TextPipeline } from '../../knowledge-base/text-pipeline.ts';
import type { KnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { detectSituation } from '../../knowledge-base/retrieval/situation.ts';
import type { Asker, AskResult } from '../ask.ts';
import { readInContext } from '../dialog.ts';
import type { Intent } from '../understand/rule-intent.ts';
import { contextOf, type CallContext } from './call-context.ts';

/**
 * At or above this confidence in the top item, there are suggestions. Lower than the chat's
 * ANSWER_AT (0.6): staff hear the caller and choose among three, and on the labelled sets the
 * right item is among the three for 95% of the questions between 0.4 and 0.6.
 */
export const ASSIST_ANSWER_AT = 0.4;
export const MAX_SUGGESTIONS = 3;
/** An item of another category than the top one is suggested only this close to it. */
const OTHER_CATEGORY_SHARE = 0.35;
/** Characters of guide text per part, past which no further line is added. */
const PART_BUDGET = 80;
/** Materials of a 情形 named in an overview; the rest are counted (asking for the materials lists them all). */
const BRIEF_MATERIALS = 3;

export interface SuggestionDraft {
  itemId: string;
  itemName: string;
  aspect: Aspect;
  /** The caller's 情形 this answer is for, when known. */
  situation: string | null;
  /** What to say: the facts asked for, then the source guide. */
  text: string;
  sources: Array<{ itemId: string; section: SectionName }>;
  /** The 情形 questions to ask the caller (the answer depends on them). */
  askCaller: string[];
}

export interface AssistEmergency {
  number: string;
  reason: string;
  also: string[];
}

export interface AssistOutcome {
  intent: Intent;
  suggestions: SuggestionDraft[];
  emergency: AssistEmergency | null;
  /** No reliable answer: logged for the knowledge base. */
  unanswered: boolean;
  /** A word for staff when the utterance is not a service question (out of scope, a complaint…). */
  notice: string | null;
  /** The call's context after this utterance. */
  context: CallContext;
  asked: AskResult;
}

export interface SuggestDeps {
  kb: KnowledgeBase;
  asker: Asker;
}

/** For staff, when the utterance is something other than a service question. */
const NOTICES: Partial<Record<Intent, string>> = {
  case: '来电属于投诉、举报、求助或建议：请按诉求受理流程登记。',
  progress: '来电人在查询办理进度：知识库不含个人办件信息，请按受理编号查询。',
  handoff: '来电人要求人工服务。',
};

export async function suggest(deps: SuggestDeps, text: string, context: CallContext): Promise<AssistOutcome> {
  const { kb } = deps;
  const r = await deps.asker.ask(text);
  const outcome = (o: Partial<AssistOutcome>): AssistOutcome => ({
    intent: r.intent,
    suggestions: [],
    emergency: null,
    unanswered: false,
    notice: null,
    context,
    asked: r,
    ...o,
  });

  if (r.intent === 'emergency' && r.emergency) {
    const { number, reason, also } = r.emergency;
    return outcome({ emergency: { number, reason, also } });
  }
  if (r.intent === 'out_of_scope') return outcome({ notice: firstSentence(r.answer?.text ?? '') || null });
  if (r.intent !== 'answer' && r.intent !== 'clarify') return outcome({ notice: NOTICES[r.intent] ?? null });

  const current = context.itemId ? kb.index.guides.get(context.itemId) : undefined;
  const known = (g: Guide, name: string | undefined) => g.situations.find((s) => s.name === name) ?? null;
  let reading: { itemId: string; aspect: Aspect; situation: Situation | null } | null = null;
  // An utterance that names a service of another kind with some confidence ("那护照呢" while
  // on 身份证) starts a new topic: the chat would look for a sibling of the current item.
  const topCategory = r.candidates[0] && kb.index.guides.get(r.candidates[0].id)?.category;
  const elsewhere = Boolean(current && r.namesService && r.confidence >= ASSIST_ANSWER_AT && topCategory !== current.category);
  if (current && !elsewhere) {
    // The caller answers the 情形 question of the current item ("外地户口"): the overview
    // (or the materials) for that 情形.
    const named = !context.situation && current.situations.length ? detectSituation(current, r.normalized, kb.text.normalizer) : null;
    if (named) reading = { itemId: current.id, aspect: context.aspect === 'materials' ? 'materials' : 'general', situation: named };
    // Otherwise as the chat reads a message: an aspect alone, a short follow-up, a 情形.
    reading ??= await readInContext({ state: context, deps }, text, r);
  }
  if (reading) {
    const guide = kb.index.guides.get(reading.itemId)!;
    const draft = suggestionFor(kb, guide, reading.aspect, reading.situation, r);
    return outcome({ intent: 'answer', suggestions: [draft], context: contextOf(draft) });
  }

  const top = r.candidates[0];
  if (!top || r.confidence < ASSIST_ANSWER_AT) return outcome({ unanswered: true });
  const topGuide = kb.index.guides.get(top.id)!;
  // The top item, then related items: of its category first, others only when close.
  const related = [
    ...r.candidates.slice(1).filter((c) => kb.index.guides.get(c.id)?.category === topGuide.category),
    ...r.candidates.slice(1).filter((c) => kb.index.guides.get(c.id)?.category !== topGuide.category && c.score >= top.score * OTHER_CATEGORY_SHARE),
  ];
  const suggestions = [top, ...related].slice(0, MAX_SUGGESTIONS).map((c) => {
    const guide = kb.index.guides.get(c.id)!;
    // A 情形 the caller named before stays known while the call stays on its item.
    const situation = detectSituation(guide, r.normalized, kb.text.normalizer) ?? (guide.id === context.itemId ? known(guide, context.situation) : null);
    return suggestionFor(kb, guide, r.aspect, situation, r);
  });
  return outcome({ intent: 'answer', suggestions, context: contextOf(suggestions[0]!) });
}

const firstSentence = (s: string) => /^[^。！？]*[。！？]?/.exec(s.trim())?.[0] ?? '';

// ---- Phone answers ----------------------------------------------------------------------

const LABELS: Partial<Record<Exclude<Aspect, 'general'>, string>> = {
  materials: '所需材料',
  fees: '收费',
  time: '时限',
  place: '地点',
  conditions: '条件',
  process: '流程',
  online: '网上办理',
};
/** Aspects a caller is told in full from their own section; the others from the guide lines that answer the question. */
const OWN_SECTION: Aspect[] = ['materials', 'place', 'process'];

/** A guide line as a spoken fact: list markers and the closing stop dropped. */
const fact = (line: string) => line.trim().replace(/^(?:[-*•]|\d+[.、])\s*/, '').replace(/[。；;，,\s]+$/, '');
const linesOf = (section: string) => section.split('\n').map(fact).filter(Boolean);
/** "其余材料按办理情形不同…请先确认您属于哪种情形": said by the 情形 question instead. */
const ASKS_SITUATION = /按办理情形不同|属于哪种情形/;
/** "窗口：" before a place: the label says it already. */
const PLACE_PREFIX = /^(?:窗口|现场|线下)[：:]\s*/;

/** Whether every thing a line lists ("每种情形都需要：A、B") is in the 情形's own materials. */
function coveredBy(line: string, own: string[]): boolean {
  const all = own.join('；');
  return line
    .replace(/^[^：:]{0,12}[：:]/, '')
    .split(/[、，,]/)
    .map((p) => p.trim())
    .filter(Boolean)
    .every((p) => all.includes(p));
}

/** The first lines, at most max, stopping once budget characters are reached. */
function firstFacts(lines: string[], max: number, budget = PART_BUDGET): string[] {
  const out: string[] = [];
  let used = 0;
  for (const l of lines) {
    if (out.length >= max || (out.length && used >= budget)) break;
    out.push(l);
    used += l.length;
  }
  return out;
}

interface Part {
  label?: string;
  section: SectionName;
  facts: string[];
}

/** Guide lines chosen for the question, as spoken facts (the first line's section names the part). */
function linesPart(units: Array<{ section: SectionName; text: string }>): Part {
  return { section: units[0]?.section ?? '办理条件', facts: units.map((u) => fact(u.text)) };
}

/** The part of the guide that answers one aspect, as a few spoken facts. */
function partFor(guide: Guide, aspect: Exclude<Aspect, 'general'>, situation: Situation | null, brief: boolean): Part {
  const s = guide.sections;
  const n = (full: number) => (brief ? 1 : full);
  switch (aspect) {
    case 'materials': {
      const general = linesOf(s['所需材料']).filter((l) => !ASKS_SITUATION.test(l));
      const own = situation ? situation.materials.map(fact) : [];
      let facts: string[];
      if (situation) {
        // What every 情形 needs (unless the 情形's list repeats it), then the 情形's own; in an
        // overview only its first materials, and how many there are in all.
        const common = firstFacts(general, 1).filter((l) => !coveredBy(l, own));
        const mine = brief && own.length > BRIEF_MATERIALS ? own.slice(0, BRIEF_MATERIALS) : own;
        if (mine.length < own.length) mine[mine.length - 1] += `等，共 ${own.length} 项`;
        facts = [...common, ...mine];
      } else facts = firstFacts(general, n(3));
      return { label: situation ? `所需材料（${situation.name}）` : LABELS.materials, section: '所需材料', facts: facts.length ? facts : firstFacts(linesOf(s['所需材料']), 1) };
    }
    case 'place': {
      const offline = linesOf(s['办理地点与渠道']).filter((l) => !ONLINE.test(l));
      const facts = firstFacts(offline.length ? offline : linesOf(s['办理地点与渠道']), n(2)).map((l) => l.replace(PLACE_PREFIX, ''));
      return { label: LABELS.place, section: '办理地点与渠道', facts };
    }
    case 'online': {
      const online = linesOf(s['办理地点与渠道']).filter((l) => ONLINE.test(l));
      return { label: LABELS.online, section: '办理地点与渠道', facts: firstFacts(online.length ? online : linesOf(s['办理地点与渠道']), n(2)) };
    }
    case 'fees':
      return { label: LABELS.fees, section: '收费标准', facts: firstFacts(linesOf(s['收费标准']), n(2)) };
    case 'time':
      return { label: LABELS.time, section: '办理时限', facts: firstFacts(linesOf(s['办理时限']), n(2)) };
    case 'conditions':
      return { label: LABELS.conditions, section: '办理条件', facts: firstFacts(linesOf(s['办理条件']), n(2)) };
    case 'process':
      return { label: LABELS.process, section: '办理流程', facts: firstFacts(linesOf(s['办理流程']), n(3), 120) };
    default:
      // A question type answered by lines anywhere in the guide, asked without its words: the conditions.
      return { label: LABELS.conditions, section: '办理条件', facts: firstFacts(linesOf(s['办理条件']), n(2)) };
  }
}

/**
 * A caller speaking English: the chat's English answer (the guide's English lines, or the
 * Chinese marked 原文为中文), for staff to read out; in Chinese, the phone phrasing.
 */
function suggestionFor(kb: KnowledgeBase, guide: Guide, aspect: Aspect, situation: Situation | null, r: AskResult): SuggestionDraft {
  if (r.lang !== 'en') return phoneSuggestion(guide, aspect, situation, { query: r.normalized, text: kb.text });
  const answer = inLanguage('en', () =>
    composeAnswer(guide, { aspect, rules: kb.text.lexicon.aspects, situation, situationUnknown: !situation && aspect === 'materials', query: r.normalized, text: kb.text, english: kb.set.english.get(guide.id) }),
  );
  const english = kb.set.english.get(guide.id);
  return {
    itemId: guide.id,
    itemName: english?.name ?? guide.name,
    aspect,
    situation: situation?.name ?? null,
    text: answer.text,
    sources: answer.sources.map((s) => ({ itemId: s.itemId, section: s.section as SectionName })),
    askCaller: [],
  };
}

/** 请问您是A，还是B？ — the 情形 of the guide, as one question to the caller. */
export function situationQuestion(situations: Situation[]): string | null {
  const names = situations.map((s) => s.name);
  if (!names.length) return null;
  if (names.length === 1) return `请问您是否属于“${names[0]}”的情形？`;
  if (names.length === 2) return `请问您是${names[0]}，还是${names[1]}？`;
  return `请问您属于哪种情形：${names.slice(0, -1).join('、')}，还是${names.at(-1)}？`;
}

/**
 * One suggestion: the facts of the aspect asked, quoted from the guide (a general question:
 * where, what to bring, how much and how long, one fact each), then the source.
 */
export function phoneSuggestion(guide: Guide, aspect: Aspect, situation: Situation | null, asked?: { query: string; text: TextPipeline }): SuggestionDraft {
  const rule = asked?.text.lexicon.aspects.find((a) => a.key === aspect);
  const parts: Part[] =
    aspect === 'general'
      ? (['place', 'materials', 'fees', 'time'] as const).map((a) => partFor(guide, a, situation, true))
      : asked && rule && !OWN_SECTION.includes(aspect)
        ? [linesPart(chooseUnits(guide, rule, asked.query, asked.text, situation).units)]
        : [partFor(guide, aspect, situation, false)];
  const said = parts.filter((p) => p.facts.length);
  const body =
    aspect === 'general' || (aspect === 'materials' && situation)
      ? said.map((p) => `${p.label}：${p.facts.join('；')}。`).join('')
      : said.map((p) => `${p.facts.join('；')}。`).join('');
  const sections = [...new Set(said.map((p) => p.section))];
  const question = situation ? null : situationQuestion(guide.situations);
  return {
    itemId: guide.id,
    itemName: guide.name,
    aspect,
    situation: situation?.name ?? null,
    text: `${body}（来源：《${guide.name}》办事指南·${sections.join('、')}）`,
    sources: sections.map((section) => ({ itemId: guide.id, section })),
    askCaller: question ? [question] : [],
  };
}
