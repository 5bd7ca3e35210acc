/**
 * Pinyin input ("shenfenzheng diule zenmeban"): a run of Latin letters that splits
 * entirely into the pinyin of known service words is rewritten into those words.
 * A run that does not split completely (English, names) is left as it is.
 */
import { pinyin } from 'pinyin-pro';

const MAX_KEY = 40;

export class PinyinReader {
  private readonly byKey = new Map<string, string>();

  constructor(words: Iterable<string>) {
    for (const w of words) {
      if (!/^[\p{Script=Han}]+$/u.test(w)) continue;
      const key = pinyin(w, { toneType: 'none', type: 'array' }).join('').toLowerCase();
      // Several words may share a reading; the first (the lexicon's order) wins.
      if (key.length <= MAX_KEY && !this.byKey.has(key)) this.byKey.set(key, w);
    }
  }

  /** Rewrites every Latin run that is wholly pinyin of known words; other text is unchanged. */
  read(text: string): string {
    return text.replace(/[a-z]+(?:[ '][a-z]+)*/g, (run) => this.segment(run.replace(/[ ']/g, '')) ?? run);
  }

  /** Fewest-words split of a letter string into known readings, or null if there is none. */
  private segment(s: string): string | null {
    if (s.length < 4) return null;
    const best: Array<{ words: string[] } | null> = new Array(s.length + 1).fill(null);
    best[0] = { words: [] };
    for (let i = 0; i < s.length; i++) {
      const from = best[i];
      if (!from) continue;
      for (let j = i + 1; j <= Math.min(s.length, i + MAX_KEY); j++) {
        const w = this.byKey.get(s.slice(i, j));
        if (w && (!best[j] || best[j]!.words.length > from.words.length + 1)) best[j] = { words: [...from.words, w] };
      }
    }
    return best[s.length]?.words.join('') ?? null;
  }
}
