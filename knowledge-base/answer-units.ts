/**
 * Answer units: every line of every guide (each section's lines, each 情形's materials), so
 * that an answer quotes the one to three lines that hold the fact asked, wherever in the
 * guide they are, instead of the section a keyword points at.
 *
 * A line is chosen by three things: the aspect's sections (its own first), the aspect's cues
 * (the shape of a line that answers that kind of question: "90日内", "有效期", "委托"), and
 * the words of the question it shares, weighted by how rare they are in the guide.
 */
import { sectionLines, SECTION_NAMES, type Guide, type SectionName, type Situation } from './guide.ts';
import type { AspectRule } from './lexicon.ts';
import type { TextPipeline } from './text-pipeline.ts';
import type { Aspect } from './lexicon.ts';
import { detectSituation } from './retrieval/situation.ts';

export interface AnswerUnit {
  itemId: string;
  section: SectionName;
  /** The 情形 whose material this is. */
  situation?: string;
  /** Position within its section (or its 情形's materials), from 0. */
  index: number;
  /** The line as written, list marker and all. */
  text: string;
  tokens: Set<string>;
  /** A line that ends in "：" introduces the lines after it ("有下列情形之一的，不得担任保安员："): their places. */
  items?: number[];
  /** The place of the line that introduces this one, if any: quoted with it. */
  lead?: number;
}

/** A line that introduces the list after it. */
const INTRODUCES = /[：:]\s*[。.]?$/;

/** Sections never quoted as an answer of their own (the law titles answer nothing a citizen asks). */
const NEVER: SectionName[] = ['法律依据'];
/** The question words that say nothing of which line answers it. */
const FILLER = new Set(['办理', '办', '怎么', '什么', '可以', '能', '要', '需要', '吗', '呢', '请问', '一下', '我', '的', '了', '是', '有']);

const cache = new WeakMap<Guide, { units: AnswerUnit[]; idf: Map<string, number>; nameTokens: Set<string> }>();

function prepared(guide: Guide, text: TextPipeline) {
  let p = cache.get(guide);
  if (p) return p;
  const tokens = (s: string) => new Set(text.tokenizer.tokens(text.normalizer.normalize(s)));
  const units: AnswerUnit[] = [];
  for (const section of SECTION_NAMES) {
    if (NEVER.includes(section)) continue;
    const lines = sectionLines(guide.sections[section]);
    const own: AnswerUnit[] = lines.map((line, index) => ({ itemId: guide.id, section, index, text: line, tokens: tokens(line) }));
    own.forEach((u, i) => {
      if (!INTRODUCES.test(u.text)) return;
      const items: number[] = [];
      for (let j = i + 1; j < own.length && items.length < 8 && !INTRODUCES.test(own[j]!.text); j++) items.push(j);
      if (!items.length) return;
      u.items = items;
      for (const j of items) {
        own[j]!.lead = i;
        for (const tok of own[j]!.tokens) u.tokens.add(tok);
      }
    });
    units.push(...own);
  }
  for (const s of guide.situations) {
    s.materials.forEach((m, index) => units.push({ itemId: guide.id, section: '所需材料', situation: s.name, index, text: m, tokens: tokens(`${s.name} ${m}`) }));
  }
  const df = new Map<string, number>();
  for (const u of units) for (const t of u.tokens) df.set(t, (df.get(t) ?? 0) + 1);
  const idf = new Map([...df].map(([t, n]) => [t, Math.log(1 + units.length / n)]));
  const nameTokens = tokens([guide.name, ...guide.aliases].join(' '));
  p = { units, idf, nameTokens };
  cache.set(guide, p);
  return p;
}

export function answerUnits(guide: Guide, text: TextPipeline): AnswerUnit[] {
  return prepared(guide, text).units;
}

export interface UnitChoice {
  units: AnswerUnit[];
  /** Whether a line has the shape the question type asks for (always true for a type without cues). */
  shaped: boolean;
  /** The share of the question's (weighted) words the best line has, 0–1. */
  overlap: number;
  /** Whether the best line shares words with the question (not only the section or the shape asked for). */
  matched: boolean;
}

/**
 * The one to three lines of the guide that answer a question of this aspect.
 * @param query the question, normalised, with the aspect words left in (they are cues too).
 * @param situation the citizen's 情形: its materials may answer; other 情形's do not.
 */
export function chooseUnits(guide: Guide, rule: AspectRule, query: string, text: TextPipeline, situation: Situation | null = null): UnitChoice {
  const { units, idf, nameTokens } = prepared(guide, text);
  // The item's own name says nothing of which line answers, unless it is all the question says.
  const words = [...new Set(text.tokenizer.tokens(query))].filter((t) => !FILLER.has(t));
  const unnamed = words.filter((t) => !nameTokens.has(t));
  const asked = unnamed.length ? unnamed : words;
  const weight = (t: string) => idf.get(t) ?? Math.log(1 + units.length);
  const total = asked.reduce((n, t) => n + weight(t), 0);
  const scored = units
    .filter((u) => !u.situation || u.situation === situation?.name)
    .map((u) => {
      const rank = rule.sections.indexOf(u.section);
      const prior = rank < 0 ? 0 : 1 - rank * 0.2;
      const cue = rule.cues.some((c) => c.test(u.text)) ? 1.5 : 0;
      const overlap = total ? asked.reduce((n, t) => n + (u.tokens.has(t) ? weight(t) : 0), 0) / total : 0;
      // A line outside the aspect's sections answers only if it says what was asked.
      const score = rank < 0 && !cue ? overlap : prior + cue + 2 * overlap;
      return { u, score, cue, overlap, rank };
    })
    .sort((a, b) => b.score - a.score || a.rank - b.rank || a.u.index - b.u.index);
  const best = scored[0];
  if (!best || (!best.cue && best.overlap === 0)) {
    const own = units.filter((u) => u.section === rule.sections[0] && !u.situation).slice(0, 3);
    return { units: own, matched: false, shaped: !rule.cues.length, overlap: 0 };
  }
  // Lines nearly as good, that also match the question, join the best (not one that says the same again); in guide order.
  const chosen: typeof scored = [];
  for (const s of scored) {
    if (chosen.length === 3 || s.score < best.score * 0.8) break;
    // Beyond the best line: one of the aspect's own section with the shape asked for, or one that
    // shares the question's words and has that shape or is in that section.
    if (s !== best && !(s.cue && s.rank === 0) && !(s.overlap > 0 && (s.cue || s.rank === 0))) continue;
    if (chosen.some((c) => similar(c.u.text, s.u.text))) continue;
    chosen.push(s);
  }
  const order = (u: AnswerUnit) => units.indexOf(u);
  return { units: chosen.map((s) => s.u).sort((a, b) => order(a) - order(b)), matched: best.overlap > 0, shaped: !rule.cues.length || best.cue > 0, overlap: best.overlap };
}

/**
 * The 情形 a question's words point to when it names none by its keywords ("叫我妈去帮我领"
 * → 他人代领): the one whose name and materials share clearly more of the question's rarer
 * words than any other, or none.
 */
export function guessSituation(guide: Guide, query: string, text: TextPipeline): Situation | null {
  if (guide.situations.length < 2) return null;
  const { units, idf, nameTokens } = prepared(guide, text);
  const asked = [...new Set(text.tokenizer.tokens(query))].filter((t) => !FILLER.has(t) && !nameTokens.has(t));
  const words = guide.situations.map((s) => {
    const mine = new Set(units.filter((u) => u.situation === s.name).flatMap((u) => [...u.tokens]));
    for (const t of text.tokenizer.tokens(text.normalizer.normalize(s.name))) mine.add(t);
    return mine;
  });
  // A word every 情形 has says nothing of which one applies.
  const everywhere = (t: string) => words.every((w) => w.has(t));
  const scores = guide.situations.map((s, i) => ({ s, score: asked.reduce((n, t) => n + (words[i]!.has(t) && !everywhere(t) ? (idf.get(t) ?? 0) : 0), 0) }));
  scores.sort((a, b) => b.score - a.score);
  const [first, second] = scores;
  return first && first.score > 0 && first.score >= 2 * (second?.score ?? 0) ? first.s : null;
}

/** The 情形 a question names by keyword, or (asking for materials) the one its words point to. */
export function situationAsked(guide: Guide, query: string, aspect: Aspect, text: TextPipeline): Situation | null {
  return detectSituation(guide, query, text.normalizer) ?? (aspect === 'materials' ? guessSituation(guide, query, text) : null);
}

/** Two lines that say nearly the same (character pairs shared): one is enough in an answer. */
function similar(a: string, b: string): boolean {
  const pairs = (s: string) => new Set([...s].slice(1).map((ch, i) => s[i] + ch));
  const x = pairs(quoted(a));
  const y = pairs(quoted(b));
  let both = 0;
  for (const p of x) if (y.has(p)) both++;
  return both / Math.min(x.size, y.size) > 0.7;
}

/** A line as quoted in a reply: no list marker, no closing stop (the reply adds its own). */
export const quoted = (line: string) => line.replace(/^(?:[-*•]|\d+[.、])\s*/, '').replace(/[。；;]$/, '');
