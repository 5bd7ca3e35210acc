/**
 * The service lexicon, read from the editable files in knowledge-base/lexicon/:
 * colloquial→official synonyms, the jieba user dictionary, stop words, aspect and intent rules.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SECTION_NAMES, type SectionName } from './guide.ts';

export interface AspectRule {
  key: Aspect;
  label: string;
  /** The label in English replies. */
  labelEn: string;
  /** The guide sections that answer it, most likely first (the first is the aspect's own). */
  sections: SectionName[];
  /** Patterns of a guide line that answers this kind of question ("90日内", "有效期"). */
  cues: RegExp[];
  patterns: RegExp[];
  /** The same patterns with the g flag, for removing every match (none where the words also name the item). */
  global: RegExp[];
}
export const ASPECTS = [
  'materials', 'fees', 'time', 'place', 'conditions', 'process', 'online',
  // Question types that a section of their own does not answer: a line anywhere in the guide does.
  'validity', 'deadline', 'proxy', 'consequence', 'eligibility', 'exam', 'urgent',
] as const;
export type Aspect = (typeof ASPECTS)[number] | 'general';

export interface EmergencyRule {
  number: string;
  reason: string;
  reasonEn: string;
  /** What to do now, said again while the citizen stays with the emergency. */
  advice: string;
  adviceEn: string;
  also: string[];
  patterns: RegExp[];
  /** A match of one of these cancels the rule (a crash last month is not an emergency now). */
  unless: RegExp[];
}
export interface ScopeRule {
  topic: string;
  where: string;
  /** Words that mark the topic when no public-security term is in the message. */
  patterns: string[];
  /** Patterns that mark the topic even next to a public-security term. */
  always: RegExp[];
}
export interface IntentRules {
  emergency: EmergencyRule[];
  handoff: RegExp[];
  case: RegExp[];
  progress: RegExp[];
  /** "How do I complain / check progress": a question for the guides, not a case. */
  howTo: RegExp[];
  /** A message made only of these words (and fillers) is a greeting. */
  greetingWords: string[];
  /** Insults and venting: answered calmly. */
  abuse: RegExp[];
  /** "重新开始": forget the conversation's context. */
  restart: RegExp[];
  /** A follow-up that states the citizen's circumstance: read with the current item. */
  circumstance: RegExp[];
  /** The same with the g flag, for removing every match. */
  circumstanceAll: RegExp[];
  outOfScope: ScopeRule[];
}

export interface Lexicon {
  synonyms: Array<[from: string, to: string]>;
  userDict: string;
  stopwords: Set<string>;
  /** Words recognised in pinyin input (besides synonyms and the user dictionary). */
  pinyinWords: string[];
  /** Words common in item names that do not by themselves mark a public-security matter. */
  genericWords: Set<string>;
  aspects: AspectRule[];
  intents: IntentRules;
  /** Where to check a figure a guide leaves to the city (以本市公布为准), by department; `default` for the rest. */
  whereToCheck: Record<string, { zh: string; en: string }>;
  /** Raw bytes of every lexicon file, for the index checksum. */
  files: Array<{ name: string; text: string }>;
}

class LexiconError extends Error {}

/** Lexicon files added after the first releases: a release without them still opens. */
const OPTIONAL_FILES = ['where-to-check.yaml'];

function compile(file: string, where: string, source: unknown): RegExp {
  try {
    return new RegExp(String(source), 'i');
  } catch (e) {
    throw new LexiconError(`${file}: ${where}: invalid pattern "${String(source)}": ${(e as Error).message}`);
  }
}

export function loadLexicon(dir: string): Lexicon {
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
  // A file newer than a release in force may be missing from it: read as empty.
  const optional = (name: string) => (existsSync(path.join(dir, name)) ? read(name) : '');
  const files = [
    ...['synonyms.tsv', 'userdict.txt', 'stopwords.txt', 'generic-words.txt', 'pinyin-words.txt', 'aspects.yaml', 'intents.yaml'].map((name) => ({ name, text: read(name) })),
    ...(OPTIONAL_FILES.map((name) => ({ name, text: optional(name) })).filter((f) => f.text)),
  ];
  const text = (name: string) => files.find((f) => f.name === name)?.text ?? '';

  const synonyms: Array<[string, string]> = [];
  text('synonyms.tsv')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (!line.trim() || line.startsWith('#')) return;
      const [from, to] = line.split('\t');
      if (!from?.trim() || !to?.trim()) {
        throw new LexiconError(`synonyms.tsv:${i + 1}: expected "口语<TAB>规范说法", got "${line}"`);
      }
      synonyms.push([from.trim().toLowerCase(), to.trim()]);
    });

  const wordList = (name: string) =>
    new Set(
      text(name)
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
    );
  const stopwords = wordList('stopwords.txt');
  const genericWords = wordList('generic-words.txt');
  const pinyinWords = [...wordList('pinyin-words.txt')];

  const aspectsRaw = parse(text('aspects.yaml')) as Record<string, { label: string; label_en?: string; sections?: string[]; section?: string; cues?: string[]; patterns: string[]; keep_words?: boolean }>;
  const aspects: AspectRule[] = Object.entries(aspectsRaw).map(([key, v]) => {
    if (!(ASPECTS as readonly string[]).includes(key)) {
      throw new LexiconError(`aspects.yaml: unknown aspect "${key}" (known: ${ASPECTS.join(', ')})`);
    }
    // `section` (one) is the format of releases made before the question types (2026-12).
    const sections = v.sections ?? (v.section ? [v.section] : []);
    const unknown = sections.find((s) => !(SECTION_NAMES as readonly string[]).includes(s));
    if (!sections.length || unknown !== undefined) {
      throw new LexiconError(`aspects.yaml: ${key}.sections must list guide sections (${SECTION_NAMES.join('、')})${unknown ? `, not "${unknown}"` : ''}`);
    }
    return {
      key: key as Aspect,
      label: v.label,
      labelEn: v.label_en ?? v.label,
      sections: sections as SectionName[],
      cues: (v.cues ?? []).map((p, i) => compile('aspects.yaml', `${key}.cues[${i}]`, p)),
      patterns: (v.patterns ?? []).map((p, i) => compile('aspects.yaml', `${key}[${i}]`, p)),
      global: v.keep_words ? [] : (v.patterns ?? []).map((p) => new RegExp(String(p), 'gi')),
    };
  });

  const raw = parse(text('intents.yaml')) as {
    emergency: Array<{ number: string; reason: string; reason_en?: string; advice?: string; advice_en?: string; also?: string[]; patterns: string[]; unless?: string[] }>;
    handoff: string[];
    case: string[];
    progress: string[];
    how_to?: string[];
    abuse?: string[];
    restart?: string[];
    circumstance?: string[];
    greeting: { words: string[] };
    out_of_scope: Array<{ topic: string; where: string; patterns?: string[]; always?: string[] }>;
  };
  const list = (key: string, ps: string[] | undefined) => (ps ?? []).map((p, i) => compile('intents.yaml', `${key}[${i}]`, p));
  const intents: IntentRules = {
    emergency: raw.emergency.map((e, i) => ({
      number: String(e.number),
      reason: e.reason,
      reasonEn: e.reason_en ?? e.reason,
      advice: e.advice ?? '',
      adviceEn: e.advice_en ?? e.advice ?? '',
      also: (e.also ?? []).map(String),
      patterns: list(`emergency[${i}]`, e.patterns),
      unless: list(`emergency[${i}].unless`, e.unless),
    })),
    handoff: list('handoff', raw.handoff),
    case: list('case', raw.case),
    progress: list('progress', raw.progress),
    howTo: list('how_to', raw.how_to),
    abuse: list('abuse', raw.abuse),
    restart: list('restart', raw.restart),
    circumstance: list('circumstance', raw.circumstance),
    circumstanceAll: (raw.circumstance ?? []).map((p) => new RegExp(String(p), 'gi')),
    greetingWords: (raw.greeting?.words ?? []).map((w) => String(w).toLowerCase()),
    outOfScope: raw.out_of_scope.map((s, i) => ({
      topic: s.topic,
      where: s.where,
      patterns: (s.patterns ?? []).map((p) => String(p).toLowerCase()),
      always: list(`out_of_scope[${i}].always`, s.always),
    })),
  };

  const places = (parse(text('where-to-check.yaml') || '{}') ?? {}) as Record<string, { zh?: string; en?: string }>;
  const whereToCheck = Object.fromEntries(Object.entries(places).map(([k, v]) => [k, { zh: String(v?.zh ?? ''), en: String(v?.en ?? v?.zh ?? '') }]));
  return { synonyms, userDict: text('userdict.txt'), stopwords, genericWords, pinyinWords, aspects, intents, whereToCheck, files };
}
