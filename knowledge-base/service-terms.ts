/**
 * The vocabulary that marks a message as being about a public-security service: words of
 * item names, the user dictionary and the lexicon's official terms (whole), minus generic
 * words such as 办理, 登记 or 安全 that other departments use too. Aliases are left out:
 * their everyday words (孩子, 哪里) would mark almost anything.
 */
import type { Guide } from './guide.ts';
import type { TextPipeline } from './text-pipeline.ts';

export class ServiceTerms {
  private readonly terms = new Set<string>();

  constructor(guides: Guide[], private readonly text: TextPipeline) {
    const { lexicon, normalizer, tokenizer } = text;
    const add = (t: string) => {
      if (t.length >= 2 && !lexicon.genericWords.has(t) && !lexicon.stopwords.has(t)) this.terms.add(t);
    };
    for (const g of guides) for (const t of tokenizer.words(normalizer.normalize(g.name))) add(t);
    for (const line of lexicon.userDict.split('\n')) add(line.split(' ')[0]!.trim());
    for (const [, to] of lexicon.synonyms) add(to);
  }

  /** True when the normalised message contains at least one service term. */
  mentionedIn(normalized: string): boolean {
    return this.text.tokenizer.tokens(normalized).some((t) => this.terms.has(t));
  }

  /** The service terms a normalised message contains, in order. */
  named(normalized: string): string[] {
    return this.text.tokenizer.tokens(normalized).filter((t) => this.terms.has(t));
  }

  get size(): number {
    return this.terms.size;
  }

  list(): string[] {
    return [...this.terms].sort();
  }
}
