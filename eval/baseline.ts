/**
 * The baseline 小安's retriever must beat: a plain MiniSearch full-text index with jieba
 * tokens over the same chunks (names, 相似问, sections, 情形), with MiniSearch's own BM25
 * and no lexicon — no synonyms, no aspect handling, no vectors, no calibration. An item
 * ranks by its best chunk.
 */
import MiniSearch from 'minisearch';
import { indexTextOf, type Chunk } from '../knowledge-base/chunks.ts';
import type { TextPipeline } from '../knowledge-base/text-pipeline.ts';

export class BaselineSearch {
  private readonly search: MiniSearch<{ id: number; text: string; itemId: string }>;

  constructor(chunks: readonly Chunk[], text: TextPipeline) {
    const tokenize = (s: string) => text.tokenizer.tokens(text.normalizer.clean(s));
    this.search = new MiniSearch({ fields: ['text'], storeFields: ['itemId'], tokenize, processTerm: (t) => t });
    this.search.addAll(chunks.map((c) => ({ id: c.id, text: indexTextOf(c), itemId: c.itemId })));
  }

  /** Item ids, best first. */
  rank(question: string, limit = 5): string[] {
    const items: string[] = [];
    for (const hit of this.search.search(question, { combineWith: 'OR' })) {
      const id = String(hit.itemId);
      if (!items.includes(id)) items.push(id);
      if (items.length === limit) break;
    }
    return items;
  }
}
