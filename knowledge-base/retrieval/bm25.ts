/**
 * Okapi BM25 over pre-tokenised documents (jieba tokens). Written here because
 * LangChain's BM25Retriever splits on whitespace and cannot score Chinese.
 */
export interface Bm25Hit {
  doc: number;
  score: number;
}

export interface Bm25Data {
  k1: number;
  b: number;
  docLengths: number[];
  avgLength: number;
  postings: Record<string, Array<[doc: number, tf: number]>>;
}

export class Bm25Index {
  private constructor(private readonly data: Bm25Data) {}

  static build(docs: string[][], k1 = 1.2, b = 0.75): Bm25Index {
    const postings: Record<string, Array<[number, number]>> = Object.create(null);
    docs.forEach((tokens, doc) => {
      const tf = new Map<string, number>();
      for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const [term, n] of tf) (postings[term] ??= []).push([doc, n]);
    });
    const docLengths = docs.map((d) => d.length);
    const avgLength = docLengths.reduce((a, n) => a + n, 0) / Math.max(1, docs.length);
    return new Bm25Index({ k1, b, docLengths, avgLength, postings });
  }

  static fromJSON(data: Bm25Data): Bm25Index {
    return new Bm25Index(data);
  }

  toJSON(): Bm25Data {
    return this.data;
  }

  get size(): number {
    return this.data.docLengths.length;
  }

  /** Inverse document frequency (BM25+ style, never negative). */
  idf(term: string): number {
    const df = this.data.postings[term]?.length ?? 0;
    const n = this.size;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** Top documents for the query tokens, best first; a repeated query token counts once. */
  search(queryTokens: string[], limit: number, filter?: (doc: number) => boolean): Bm25Hit[] {
    const { k1, b, docLengths, avgLength, postings } = this.data;
    const scores = new Map<number, number>();
    for (const term of new Set(queryTokens)) {
      const list = postings[term];
      if (!list) continue;
      const idf = this.idf(term);
      for (const [doc, tf] of list) {
        if (filter && !filter(doc)) continue;
        const norm = tf + k1 * (1 - b + (b * docLengths[doc]!) / avgLength);
        scores.set(doc, (scores.get(doc) ?? 0) + (idf * (tf * (k1 + 1))) / norm);
      }
    }
    return [...scores]
      .map(([doc, score]) => ({ doc, score }))
      .sort((x, y) => y.score - x.score || x.doc - y.doc)
      .slice(0, limit);
  }
}
