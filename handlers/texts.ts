/**
 * Citizen-facing wording, kept as data (texts.zh-CN.yaml, and texts.en.yaml for foreigners);
 * code only fills in {variables}. The language is the turn's: the engine and the asker run a
 * turn inside inLanguage(), so every handler's text() speaks the citizen's language without
 * passing it around. A text missing in English is given in Chinese.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { sourceFile } from '../bot/paths.ts';

export type Language = 'zh' | 'en';
type Texts = Record<string, string | string[] | Record<string, string>>;
const FILES: Record<Language, string> = { zh: sourceFile(import.meta.url, 'texts.zh-CN.yaml'), en: sourceFile(import.meta.url, 'texts.en.yaml') };
const TEXTS: Record<Language, Texts> = {
  zh: parse(readFileSync(FILES.zh, 'utf8')) as Texts,
  en: parse(readFileSync(FILES.en, 'utf8')) as Texts,
};

const language = new AsyncLocalStorage<Language>();
/** Runs fn with the citizen's language for every text() inside it. */
export const inLanguage = <T>(lang: Language, fn: () => T): T => language.run(lang, fn);
export const currentLanguage = (): Language => language.getStore() ?? 'zh';

function lookup(lang: Language, key: string): unknown {
  const [head, sub] = key.split('.');
  return sub ? (TEXTS[lang][head!] as Record<string, string> | undefined)?.[sub] : TEXTS[lang][head!];
}

export function text(key: string, vars: Record<string, string | number> = {}, lang: Language = currentLanguage()): string {
  let v = lookup(lang, key);
  if (typeof v !== 'string') v = lookup('zh', key);
  if (typeof v !== 'string') throw new Error(`no text "${key}" in ${FILES.zh}`);
  return v.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** A list of texts (e.g. the welcome menu's questions). */
export function textList(key: string, lang: Language = currentLanguage()): string[] {
  const v = TEXTS[lang][key] ?? TEXTS.zh[key];
  if (!Array.isArray(v)) throw new Error(`no list "${key}" in ${FILES.zh}`);
  return v;
}

/** A time as told to a citizen: "12月3日 14:00" (or "3 Dec, 14:00") in the bureau's time zone. */
export function citizenTime(at: string | Date, timeZone: string): string {
  return new Date(at).toLocaleString(currentLanguage() === 'en' ? 'en-GB' : 'zh-CN', { timeZone, month: currentLanguage() === 'en' ? 'short' : 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/**
 * Whether a message is written in English: no Chinese characters, and English function
 * words ("how", "can", "my") — pinyin ("huzhao duoshao qian") has none.
 */
export function isEnglish(message: string, englishWords: ReadonlySet<string>): boolean {
  if (/\p{Script=Han}/u.test(message)) return false;
  const words = message.toLowerCase().match(/[a-z']+/g) ?? [];
  return words.length >= 2 && words.filter((w) => englishWords.has(w)).length >= 1;
}
