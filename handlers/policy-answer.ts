/**
 * A policy answer: the lines of the guide that hold the fact asked, first, then the source
 * guide and section; quoted from the guide and never composed from elsewhere. A list asked
 * for (材料, 流程) comes whole; "怎么办" gets a short overview (what to bring, cost, time,
 * where) with a menu for the rest.
 */
import { answerUnits, chooseUnits, quoted, type AnswerUnit } from '../knowledge-base/answer-units.ts';
import { sectionLines, type Guide, type SectionName, type Situation } from '../knowledge-base/guide.ts';
import type { Aspect, AspectRule } from '../knowledge-base/lexicon.ts';
import type { TextPipeline } from '../knowledge-base/text-pipeline.ts';
import { figures, type EnglishGuide } from '../knowledge-base/english-guide.ts';
import { currentLanguage, text } from './texts.ts';

export interface Answer {
  text: string;
  sources: Array<{ itemId: string; section: string }>;
  /** The guide lines the answer quotes (absent for answers that are not from a guide). */
  units?: AnswerUnit[];
}

export interface AnswerRequest {
  aspect: Aspect;
  rules: AspectRule[];
  situation: Situation | null;
  /** The citizen said they do not know their 情形: list every 情形's materials. */
  situationUnknown?: boolean;
  /** The question, normalised, and the text tools: lines are chosen by it. Without it the aspect's own section answers. */
  query?: string;
  text?: TextPipeline;
  /** The guide's English version, for a citizen writing in English. */
  english?: EnglishGuide;
}

/**
 * The words an answer quotes, in the turn's language: the English line that translates a
 * guide line where the English version has it, else the Chinese (and the reply says so).
 */
/** A figure or practice the guide leaves to the city: the reply says where to check it. */
const LOCAL = /以本市.{0,12}为准/;

class Quoter {
  readonly en: boolean;
  chineseOnly = false;
  local = false;
  private readonly sectionCache = new Map<SectionName, string[]>();
  constructor(
    private readonly guide: Guide,
    private readonly english: EnglishGuide | undefined,
    private readonly whereToCheck: Record<string, { zh: string; en: string }> = {},
  ) {
    this.en = currentLanguage() === 'en';
  }
  /** A section's lines, split once per answer. */
  lines(section: SectionName): string[] {
    let l = this.sectionCache.get(section);
    if (!l) this.sectionCache.set(section, (l = sectionLines(this.guide.sections[section])));
    return l;
  }
  get name(): string {
    return this.en && this.english ? this.english.name : this.guide.name;
  }
  /** A line of a section (or of a 情形's materials), by its place. */
  line(section: SectionName, index: number, zh: string, situation?: string): string {
    if (LOCAL.test(zh)) this.local = true;
    if (!this.en) return zh;
    const lines = situation
      ? this.english?.situations.find((s) => s.zh === situation)?.materials
      : this.lines(section).length === this.english?.sections[section]?.length
        ? this.english.sections[section]
        : undefined;
    const en = lines?.[index];
    // A figure the Chinese line does not state means the English is out of date: the Chinese is right.
    if (en && figures(en).every((f) => figures(zh).includes(f))) return en;
    this.chineseOnly = true;
    return zh;
  }
  section(section: SectionName): string[] {
    return this.lines(section).map((l, i) => this.line(section, i, l));
  }
  situationName(s: Situation): string {
    return (this.en && this.english?.situations.find((x) => x.zh === s.name)?.name) || s.name;
  }
  materials(s: Situation): string[] {
    return s.materials.map((m, i) => this.line('所需材料', i, m, s.name));
  }
  /** The closing of a reply: where to check what the city sets, and "(原文为中文)" where Chinese had to stand in. */
  done(body: string): string {
    const where = this.local ? (this.whereToCheck[this.guide.department] ?? this.whereToCheck.default) : undefined;
    const notes = [where && text('where_to_check', { where: this.en ? where.en : where.zh }), this.chineseOnly && text('original_chinese')].filter(Boolean);
    return [body, ...notes].join('\n');
  }
}

/** Lines of 办理地点与渠道 that are about doing it online. */
export const ONLINE = /网上|线上|网办|app|APP|平台|12123|小程序|公众号|网站|在线|全程网办/;
/** Aspects whose answer is the whole list of their section. */
const WHOLE: Aspect[] = ['materials', 'process'];
/** Question types that are a section's own (收费, 时限, 地点, 条件). */
const SECTION_ASPECTS: Aspect[] = ['fees', 'time', 'place', 'conditions'];
/** Question types a guide may not speak to at all: then the answer says so instead of quoting something else. */
const SAY_IF_ABSENT: Aspect[] = ['validity', 'deadline', 'consequence', 'urgent'];
/** Yes/no questions: a line that plainly says yes or no is led by 可以 / 不可以. */
const YES_NO: Aspect[] = ['eligibility', 'proxy'];
const YES = /可以|可在|可由|可委托|可申请|可凭|均可|也可|不受.{0,10}限制|无需本人|不需要本人/;
const NO = /不能|不可以|不得|不予|不可(?!以)|须本人|必须本人|应当本人|本人到场|本人亲自|不适用|不办理|不受理/;
/** "窗口：", "网上：" before a fact: the overview's own label says it. */
const LABEL = /^(?:窗口|网上|线上|线下|现场|自助|咨询|全国通办)[：:]\s*/;
/** The overview keeps each fact to about this many characters. */
const BRIEF = 36;

/** A line cut at the last clause boundary (outside brackets) before `max` characters, "等" marking the cut. */
function brief(line: string, max = BRIEF): string {
  let s = quoted(line).replace(LABEL, '');
  if (s.length <= max) return s;
  // A closing remark in brackets ("（可现场照相）") is detail the overview can leave out.
  const remark = /^(.{4,}?)（[^（）]*）$/.exec(s);
  if (remark && remark[1]!.length <= max) return remark[1]!;
  if (remark) s = remark[1]!;
  let depth = 0;
  let cut = -1;
  for (let i = 0; i <= max && i < s.length; i++) {
    const c = s[i]!;
    if (c === '（' || c === '(') depth++;
    else if (c === '）' || c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && '；，、'.includes(c)) cut = i;
  }
  return `${s.slice(0, cut > 8 ? cut : max)}等`;
}

export function composeAnswer(guide: Guide, req: AnswerRequest): Answer {
  const { aspect, rules, situation } = req;
  const q = new Quoter(guide, req.english, req.text?.lexicon.whereToCheck);
  if (aspect === 'general') return overview(guide, situation, q);
  const rule = rules.find((r) => r.key === aspect)!;
  if (WHOLE.includes(aspect) || !req.text) return wholeSection(guide, rule, situation, req.situationUnknown ?? false, q);

  const choice = chooseUnits(guide, rule, req.query ?? '', req.text, situation);
  // A question type the guide has no line for (有效期 of a guide that states none): say so, and offer the rest.
  if (!choice.shaped && SAY_IF_ABSENT.includes(aspect) && !choice.matched) {
    return { text: q.done(`${text('answer_absent', { name: q.name, label: q.en ? rule.labelEn : rule.label })}\n${text('answer_source', { name: q.name })}`), sources: [], units: [] };
  }
  // A yes/no about a circumstance the guide never names: say so, then what the conditions are.
  const circumstance = req.text.lexicon.intents.circumstance.some((p) => p.test(req.query ?? ''));
  const unnamed = YES_NO.includes(aspect) && circumstance && !choice.matched;
  // A short section of the aspect's own is the answer whole (收费标准 of two lines): nothing in it is left out.
  const ownSection = answerUnits(guide, req.text).filter((u) => u.section === rule.sections[0] && !u.situation);
  const short = SECTION_ASPECTS.includes(aspect) && ownSection.length <= 3 && ownSection.reduce((n, u) => n + u.text.length, 0) <= 160 && choice.units[0]?.section === rule.sections[0];
  const units = unnamed ? answerUnits(guide, req.text).filter((u) => u.section === '办理条件').slice(0, 2) : short ? ownSection : choice.units;
  if (!units.length) return wholeSection(guide, rule, situation, false, q);
  const stop = q.en ? '.' : '。';
  const end = (s: string) => `${s}${stop}`.replace(/([.!?。])[.。]$/, '$1');
  const lineAt = (u: AnswerUnit, i: number) => q.line(u.section, i, q.lines(u.section)[i]!);
  // A list's opening line comes with its items; an item comes after the line that opens its list.
  const shown = new Set(units.map((u) => `${u.section}:${u.index}`));
  const lines = units
    .filter((u) => u.lead === undefined || !shown.has(`${u.section}:${u.lead}`))
    .map((u) => {
      const own = quoted(q.line(u.section, u.index, u.text, u.situation));
      if (u.items?.length) return [own.replace(/[：:]\s*[。.]?$/, q.en ? ':' : '：'), ...u.items.map((i) => `- ${quoted(lineAt(u, i))}`)].join('\n');
      if (u.lead !== undefined && !u.situation) return end(`${quoted(lineAt(u, u.lead)).replace(/[：:]\s*[。.]?$/, q.en ? ': ' : '：')}${own}`);
      return end(own);
    });
  if (unnamed) lines.unshift(text('answer_unnamed'));
  // No line has the shape asked for, but some share the question's words: said as related, not as the answer.
  else if (!choice.shaped && SAY_IF_ABSENT.includes(aspect)) lines.unshift(text('answer_related', { label: q.en ? rule.labelEn : rule.label }));
  // 可以 / 不可以 only when the line is plainly about what was asked (half the question's words, or more).
  else if (YES_NO.includes(aspect) && choice.overlap >= 0.5) {
    const first = units[0]!.text;
    const yes = YES.test(first);
    const no = NO.test(first);
    if (yes !== no) lines[0] = `${text(yes ? 'answer_yes' : 'answer_no')}${lines[0]}`;
  }
  const sections = [...new Set(units.map((u) => u.section))];
  const body = lines.join('\n');
  const named = q.en ? sections.map((s) => rules.find((r) => r.sections[0] === s)?.labelEn ?? s).join(', ') : sections.join('、');
  return {
    text: q.done(`${body}\n${text('answer_source_section', { name: q.name, sections: named })}`),
    sources: sections.map((s) => ({ itemId: guide.id, section: s })),
    units,
  };
}

/** A list asked for, whole: the materials (by 情形) or the steps. */
function wholeSection(guide: Guide, rule: AspectRule, situation: Situation | null, situationUnknown: boolean, q: Quoter): Answer {
  const section: SectionName = rule.sections[0]!;
  const list = (s: Situation) => `${text('situation_header', { situation: q.situationName(s) })}\n${q.materials(s).map((m) => `- ${m}`).join('\n')}`;
  let body = q.section(section).join('\n');
  if (section === '所需材料') {
    if (situation) body = `${list(situation)}\n${body}`;
    else if (guide.situations.length && situationUnknown) body = `${body}\n${guide.situations.map(list).join('\n')}`;
    else if (guide.situations.length) body = `${body}\n${text('situation_pick', { choices: guide.situations.map((s) => q.situationName(s)).join(' / ') })}`;
  }
  const header = text('aspect_header', { name: q.name, label: q.en ? rule.labelEn : rule.label });
  return { text: q.done(`【${header}】\n${body}\n${text('answer_source', { name: q.name })}`), sources: [{ itemId: guide.id, section }] };
}

/** "怎么办": what to bring, the cost, the time and where, each in brief, under about 200 characters. */
function overview(guide: Guide, situation: Situation | null, q: Quoter): Answer {
  const first = (s: SectionName, keep: (l: string) => boolean = () => true) => {
    const lines = sectionLines(guide.sections[s]);
    const i = lines.findIndex(keep);
    return i < 0 ? '' : q.line(s, i, lines[i]!);
  };
  const cut = (line: string, max = BRIEF) => (q.en ? briefEnglish(line, max * 3) : brief(line, max));
  const materials = situation
    ? `${q.materials(situation).slice(0, 3).map((m) => cut(m, 16)).join(q.en ? '; ' : '、')}${situation.materials.length > 3 ? (q.en ? ' …' : '等') : ''}`
    : cut(first('所需材料'), 40);
  const materialsLabel = situation ? `${text('overview.materials')}${q.en ? ` (${q.situationName(situation)})` : `（${situation.name}）`}` : text('overview.materials');
  const placeLines = sectionLines(guide.sections['办理地点与渠道']);
  const placeAt = Math.max(0, placeLines.findIndex((l) => !ONLINE.test(l)));
  const onlineAt = placeLines.findIndex((l, i) => ONLINE.test(l) && i !== placeAt);
  const colon = q.en ? ': ' : '：';
  const parts = [
    `【${q.name}】`,
    `${materialsLabel}${colon}${materials}`,
    `${text('overview.fees')}${colon}${cut(first('收费标准'))}`,
    `${text('overview.time')}${colon}${cut(first('办理时限'))}`,
    `${text('overview.place')}${colon}${cut(placeLines[placeAt] ? q.line('办理地点与渠道', placeAt, placeLines[placeAt]) : '')}`,
  ];
  if (onlineAt >= 0 && parts.join('').length < (q.en ? 450 : 150)) parts.push(`${text('overview.online')}${colon}${cut(q.line('办理地点与渠道', onlineAt, placeLines[onlineAt]!), 30)}`);
  parts.push(text('answer_source', { name: q.name }));
  const sections: SectionName[] = ['所需材料', '收费标准', '办理时限', '办理地点与渠道'];
  return { text: q.done(parts.join('\n')), sources: sections.map((s) => ({ itemId: guide.id, section: s })) };
}

/** An English line cut at a clause boundary near max characters. */
function briefEnglish(line: string, max: number): string {
  const s = quoted(line).replace(/^(?:Window|Online|In person|Self-service|Enquiries|Nationwide)[:：]\s*/i, '').replace(/\.$/, '');
  if (s.length <= max) return s;
  const cut = Math.max(s.lastIndexOf('; ', max), s.lastIndexOf(', ', max));
  return `${s.slice(0, cut > 20 ? cut : max)} …`;
}
