/**
 * Text normalisation shared by indexing and querying, so both sides speak the same words:
 * Unicode NFKC (full-width → half-width), traditional → simplified, lower case, no emoji,
 * pinyin input read as Chinese where it is wholly pinyin of known words, then colloquial →
 * official service terms from the lexicon (longest match first).
 */
import * as OpenCC from 'opencc-js';
import type { PinyinReader } from './pinyin.ts';

const toSimplified = OpenCC.Converter({ from: 'hk', to: 'cn' });
const toSimplifiedTw = OpenCC.Converter({ from: 'tw', to: 'cn' });
const PICTOGRAPHS = /[\p{Extended_Pictographic}\u{FE0F}\u{200D}\u{20E3}\u{1F3FB}-\u{1F3FF}]/gu;
const INVISIBLE = /[\u200B-\u200C\u2060\uFEFF\u00AD]/g;
const HAS_HAN_TRADITIONAL_CANDIDATE = /[\u3400-\u9FFF]/;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Normalizer {
  private readonly pattern: RegExp | null;
  private readonly replacement: Map<string, string>;

  constructor(
    synonyms: ReadonlyArray<readonly [string, string]>,
    private readonly pinyin?: PinyinReader,
  ) {
    this.replacement = new Map();
    for (const [from, to] of synonyms) this.replacement.set(from, to);
    // An official term maps to itself, so "居民户口簿" is not rewritten again via "户口簿".
    for (const [, to] of synonyms) if (!this.replacement.has(to.toLowerCase())) this.replacement.set(to.toLowerCase(), to);
    const keys = [...this.replacement.keys()].sort((a, b) => b.length - a.length);
    this.pattern = keys.length
      ? new RegExp(
          keys
            .map((k) => (/^[\x20-\x7e]+$/.test(k) ? `(?<![a-z])${escape(k)}(?:e?s)?(?![a-z])` : escape(k)))
            .join('|'),
          'g',
        )
      : null;
  }

  /** Characters only: width, script, case, spacing. No vocabulary changes. */
  clean(text: string): string {
    let t = text.normalize('NFKC').replace(INVISIBLE, '').replace(PICTOGRAPHS, ' ');
    if (HAS_HAN_TRADITIONAL_CANDIDATE.test(t)) t = toSimplifiedTw(toSimplified(t));
    return t.toLowerCase().replace(/\s+/g, ' ').trim();
  }

  /** clean() plus the lexicon's colloquial → official rewriting (English and pinyin too). */
  normalize(text: string): string {
    let t = this.clean(text);
    if (!this.pattern) return t;
    const rewrite = (s: string) => s.replace(this.pattern!, (m) => this.replacement.get(m) ?? this.replacement.get(m.replace(/e?s$/, '')) ?? m);
    // English terms first ("passport"), then what is left in Latin letters may be pinyin.
    t = rewrite(t);
    if (this.pinyin && /[a-z]/.test(t)) t = rewrite(this.pinyin.read(t));
    return t;
  }
}
