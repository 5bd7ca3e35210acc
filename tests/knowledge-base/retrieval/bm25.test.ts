import { describe, expect, it } from 'vitest';
import { Bm25Index } from '../../../knowledge-base/retrieval/bm25.ts';

const docs = [
  ['身份证', '遗失', '补领'],
  ['身份证', '有效期满', '换领'],
  ['护照', '遗失', '补发'],
  ['驾驶证', '有效期满', '换证', '驾驶证'],
];

describe('Bm25Index', () => {
  const index = Bm25Index.build(docs);

  it('ranks the document that shares the rarest terms first', () => {
    const hits = index.search(['身份证', '遗失'], 10);
    expect(hits[0]!.doc).toBe(0);
    expect(hits.map((h) => h.doc)).toEqual(expect.arrayContaining([1, 2]));
    expect(hits.find((h) => h.doc === 3)).toBeUndefined();
  });

  it('gives rare terms more weight than common ones', () => {
    expect(index.idf('补发')).toBeGreaterThan(index.idf('身份证'));
    expect(index.idf('没有这个词')).toBeGreaterThan(index.idf('补发'));
  });

  it('saturates term frequency and counts a repeated query term once', () => {
    const once = index.search(['驾驶证'], 1)[0]!.score;
    const twice = index.search(['驾驶证', '驾驶证'], 1)[0]!.score;
    expect(twice).toBe(once);
  });

  it('returns nothing for unknown terms and respects the limit and filter', () => {
    expect(index.search(['不存在'], 5)).toEqual([]);
    expect(index.search(['遗失'], 1)).toHaveLength(1);
    expect(index.search(['遗失'], 5, (d) => d !== 0).map((h) => h.doc)).toEqual([2]);
  });

  it('survives a JSON round trip with identical scores', () => {
    const copy = Bm25Index.fromJSON(JSON.parse(JSON.stringify(index.toJSON())));
    expect(copy.search(['身份证', '换领'], 3)).toEqual(index.search(['身份证', '换领'], 3));
  });
});
