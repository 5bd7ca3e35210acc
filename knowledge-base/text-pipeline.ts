/** The lexicon-driven text tools every stage shares: normaliser, tokenizer, aspect rules. */
import { loadLexicon, type Lexicon } from './lexicon.ts';
import { Normalizer } from './text/normalize.ts';
import { PinyinReader } from './text/pinyin.ts';
import { Tokenizer } from './text/tokenize.ts';

export interface TextPipeline {
  lexicon: Lexicon;
  normalizer: Normalizer;
  tokenizer: Tokenizer;
  /** Normalised text for the embeddings: English function words dropped ("how do i…"). */
  denseText: (normalized: string) => string;
}

/** Words pinyin input can name: the pinyin list, colloquial and official terms, service terms. */
function pinyinVocabulary(lexicon: Lexicon): string[] {
  const userDict = lexicon.userDict.split('\n').map((l) => l.split(' ')[0]!.trim());
  return [...lexicon.pinyinWords, ...lexicon.synonyms.flat(), ...userDict, ...lexicon.stopwords];
}

export function loadTextPipeline(lexiconDir: string): TextPipeline {
  const lexicon = loadLexicon(lexiconDir);
  return {
    lexicon,
    normalizer: new Normalizer(lexicon.synonyms, new PinyinReader(pinyinVocabulary(lexicon))),
    tokenizer: new Tokenizer(lexicon.userDict, lexicon.stopwords),
    denseText: (t) => t.replace(/[a-z']+/g, (w) => (lexicon.stopwords.has(w) ? ' ' : w)),
  };
}
