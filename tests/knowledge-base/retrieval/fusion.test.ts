import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../../../knowledge-base/retrieval/fusion.ts';

describe('reciprocalRankFusion', () => {
  it('puts a result found by both lists above results found by one', () => {
    const fused = reciprocalRankFusion(
      [
        { source: 'bm25', hits: [{ key: 'a', score: 9 }, { key: 'b', score: 5 }] },
        { source: 'dense', hits: [{ key: 'c', score: 0.9 }, { key: 'b', score: 0.8 }] },
      ],
      60,
    );
    expect(fused[0]!.key).toBe('b');
    expect(fused[0]!.rrf).toBeCloseTo(2 / 62);
    expect(fused[0]!.sources).toEqual({ bm25: { rank: 2, score: 5 }, dense: { rank: 2, score: 0.8 } });
  });

  it('applies list weights', () => {
    const fused = reciprocalRankFusion([
      { source: 'x', weight: 1, hits: [{ key: 'a', score: 1 }] },
      { source: 'y', weight: 3, hits: [{ key: 'b', score: 1 }] },
    ]);
    expect(fused.map((f) => f.key)).toEqual(['b', 'a']);
  });

  it('returns an empty list for empty input', () => {
    expect(reciprocalRankFusion([{ source: 'x', hits: [] }])).toEqual([]);
  });
});
