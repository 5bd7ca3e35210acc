/**
 * Offline embeddings with no model download: character 1–3-gram TF-IDF features hashed
 * into a fixed number of signed buckets, L2-normalised. Character n-grams make them
 * tolerant of typos and unsegmented colloquial Chinese, which complements BM25 on words.
 * IDF is fitted on the indexed chunks and saved with the index.
 */
import { Embeddings } from '@langchain/core/embeddings';

export interface HashedEmbeddingsState {
  dimensions: number;
  idf: number[];
}

const RUN = /[\p{Script=Han}]+|[a-z0-9]+/gu;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Features with their weight × sublinear term frequency: Han unigrams (light), bigrams,
 * trigrams; Latin and digit words whole.
 */
function features(text: string): Map<string, number> {
  const counts = new Map<string, { w: number; n: number }>();
  const add = (f: string, w: number) => {
    const c = counts.get(f);
    if (c) c.n++;
    else counts.set(f, { w, n: 1 });
  };
  for (const m of text.toLowerCase().matchAll(RUN)) {
    const run = m[0];
    if (!/\p{Script=Han}/u.test(run)) {
      add(`w:${run}`, 1);
      continue;
    }
    const chars = [...run];
    for (let i = 0; i < chars.length; i++) {
      add(chars[i]!, 0.4);
      if (i + 1 < chars.length) add(chars[i]! + chars[i + 1]!, 1);
      if (i + 2 < chars.length) add(chars[i]! + chars[i + 1]! + chars[i + 2]!, 0.8);
    }
  }
  const out = new Map<string, number>();
  for (const [f, { w, n }] of counts) out.set(f, w * (1 + Math.log(n)));
  return out;
}

export class HashedNgramEmbeddings extends Embeddings {
  readonly dimensions: number;
  private idf: Float32Array;

  constructor(state?: Partial<HashedEmbeddingsState>) {
    super({});
    this.dimensions = state?.dimensions ?? 1024;
    this.idf = state?.idf ? Float32Array.from(state.idf) : new Float32Array(this.dimensions).fill(1);
  }

  /** Learns bucket IDF from the corpus: rare n-grams weigh more than 办理/申请. */
  fit(texts: string[]): void {
    const df = new Float32Array(this.dimensions);
    for (const t of texts) {
      const seen = new Set<number>();
      for (const f of features(t).keys()) seen.add(fnv1a(f) % this.dimensions);
      for (const b of seen) df[b]! += 1;
    }
    const n = texts.length;
    this.idf = df.map((d) => Math.log((n + 1) / (d + 1)) + 1);
  }

  vector(text: string): number[] {
    const v = new Float64Array(this.dimensions);
    for (const [f, w] of features(text)) {
      const h = fnv1a(f);
      const bucket = h % this.dimensions;
      const sign = h & 0x80000000 ? -1 : 1;
      v[bucket]! += sign * w * this.idf[bucket]!;
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    return Array.from(v, (x) => x / norm);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.vector(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }

  toJSON(): HashedEmbeddingsState {
    return { dimensions: this.dimensions, idf: Array.from(this.idf) };
  }
}
