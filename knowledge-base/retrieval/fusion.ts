/**
 * Weighted reciprocal-rank fusion. Pure: lists of ids in, one merged list out,
 * each result keeping its rank and score in every source so a report can say why.
 */
export interface RankedList<K> {
  source: string;
  weight?: number;
  hits: Array<{ key: K; score: number }>;
}

export interface FusedHit<K> {
  key: K;
  rrf: number;
  sources: Record<string, { rank: number; score: number }>;
}

export function reciprocalRankFusion<K>(lists: RankedList<K>[], k = 60): FusedHit<K>[] {
  const merged = new Map<K, FusedHit<K>>();
  for (const list of lists) {
    const w = list.weight ?? 1;
    list.hits.forEach((hit, i) => {
      const rank = i + 1;
      let m = merged.get(hit.key);
      if (!m) merged.set(hit.key, (m = { key: hit.key, rrf: 0, sources: {} }));
      m.rrf += w / (k + rank);
      m.sources[list.source] = { rank, score: hit.score };
    });
  }
  return [...merged.values()].sort((a, b) => b.rrf - a.rrf);
}
