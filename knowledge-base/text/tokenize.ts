/**
 * Chinese word segmentation with jieba, the bundled dictionary and our service-term
 * dictionary. The same tokenizer runs at index time and at query time.
 */
import { createRequire } from 'node:module';
import { Jieba } from '@node-rs/jieba';

const require = createRequire(import.meta.url);
const byUserDict = new Map<string, Jieba>();
/**
 * A segmenter holds about 40 MB outside the JavaScript heap. The release served and one more
 * (a draft being reviewed, the next release) are kept; an older one is freed once nothing
 * uses it, so releases and review gates do not add up.
 */
const KEPT_SEGMENTERS = 2;

function jiebaFor(userDict: string): Jieba {
  let j = byUserDict.get(userDict);
  if (j) {
    byUserDict.delete(userDict); // most recently used goes last
  } else {
    // Plain `new Jieba()` cuts single characters; loading the bundled dictionary costs
    // ~150 ms, so it happens once per process and user dictionary.
    const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array };
    j = Jieba.withDict(dict);
    if (userDict.trim()) j.loadDict(Buffer.from(userDict));
  }
  byUserDict.set(userDict, j);
  while (byUserDict.size > KEPT_SEGMENTERS) byUserDict.delete(byUserDict.keys().next().value!);
  return j;
}

const WORDLIKE = /[\p{L}\p{N}]/u;

export class Tokenizer {
  private readonly jieba: Jieba;
  constructor(userDict: string, private readonly stopwords: ReadonlySet<string>) {
    this.jieba = jiebaFor(userDict);
  }

  /** Search-style tokens (身份证 → 身份, 身份证) for recall; stop words and punctuation dropped. */
  tokens(text: string): string[] {
    return this.jieba
      .cutForSearch(text, true)
      .map((t) => t.trim())
      .filter((t) => t && WORDLIKE.test(t) && !this.stopwords.has(t));
  }

  /** Plain segmentation, for display and term checks. */
  words(text: string): string[] {
    return this.jieba.cut(text, true).filter((t) => t.trim() && WORDLIKE.test(t));
  }
}
