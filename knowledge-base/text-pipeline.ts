/** The lexicon-driven text tools every stage shares: normaliser, tokenizer, aspect rules. */
import { loadLexicon, type Lexicon } from './lexicon.ts';
import { Normalizer } from './text/normalize.ts';
import { Tokenizer } from './text/tokenize.ts';

export interface TextPipeline {
  lexicon: Lexicon;
  normalizer: Normalizer;
  tokenizer: Tokenizer;
}

export function loadTextPipeline(lexiconDir: string): TextPipeline {
  const lexicon = loadLexicon(lexiconDir);
  return {
    lexicon,
    normalizer: new Normalizer(lexicon.synonyms),
    tokenizer: new Tokenizer(lexicon.userDict, lexicon.stopwords),
  };
}
