import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bot/config.ts';
import { HashedNgramEmbeddings } from '../../knowledge-base/embeddings/hashed-embeddings.ts';
import { embeddingsProvider } from '../../knowledge-base/embeddings/provider.ts';
import { readGuideSet } from '../../knowledge-base/guide-set.ts';
import { indexDir, openIndex } from '../../knowledge-base/knowledge-index.ts';
import { openKnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { loadTextPipeline } from '../../knowledge-base/text-pipeline.ts';
import { copyGuides, removeDir, tempDir } from '../helpers/kb.ts';

const config = loadConfig({});
const text = loadTextPipeline(config.lexiconDir);
const provider = embeddingsProvider({ kind: 'hashed' });

describe('index build, persistence and reload', () => {
  let dataDir = '';
  let guidesDir = '';
  beforeAll(() => {
    dataDir = tempDir();
    guidesDir = copyGuides(['sfz-04', 'sfz-06', 'crj-01', 'jsz-02', 'hj-01']);
  });
  afterAll(() => {
    removeDir(dataDir);
    removeDir(guidesDir);
  });

  it('builds, saves, and reuses the saved index while the guides are unchanged', async () => {
    const set = readGuideSet(guidesDir);
    const first = await openIndex(dataDir, set, text, provider);
    expect(first.built).toBe(true);
    expect(existsSync(path.join(indexDir(dataDir, first.index.meta.checksum), 'meta.json'))).toBe(true);
    const second = await openIndex(dataDir, readGuideSet(guidesDir), text, provider);
    expect(second.built).toBe(false);
    expect(second.index.meta.checksum).toBe(first.index.meta.checksum);
    expect(second.index.chunks).toHaveLength(first.index.chunks.length);

    // The reloaded index answers exactly like the fresh one.
    const q = text.normalizer.normalize('身份证掉了怎么补');
    const v = await second.index.embeddings.embedQuery(q);
    const a = await first.index.vectors.similaritySearchVectorWithScore(v, 3);
    const b = await second.index.vectors.similaritySearchVectorWithScore(v, 3);
    expect(b.map(([d, s]) => [d.metadata.chunk, s.toFixed(5)])).toEqual(a.map(([d, s]) => [d.metadata.chunk, s.toFixed(5)]));
    expect(second.index.bm25.search(text.tokenizer.tokens(q), 5)).toEqual(first.index.bm25.search(text.tokenizer.tokens(q), 5));
  });

  it('rebuilds when an editor changes a guide', async () => {
    const before = await openIndex(dataDir, readGuideSet(guidesDir), text, provider);
    appendFileSync(path.join(guidesDir, 'sfz-06.md'), '- 新增一条提示。\n');
    const after = await openIndex(dataDir, readGuideSet(guidesDir), text, provider);
    expect(after.built).toBe(true);
    expect(after.index.meta.checksum).not.toBe(before.index.meta.checksum);
  });

  it('chunks every section, every 相似问 and every 情形', async () => {
    const { index } = await openIndex(dataDir, readGuideSet(guidesDir), text, provider);
    const sfz04 = index.chunks.filter((c) => c.itemId === 'sfz-04');
    const g = index.guides.get('sfz-04')!;
    expect(sfz04.filter((c) => c.kind === 'section')).toHaveLength(8);
    expect(sfz04.filter((c) => c.kind === 'question')).toHaveLength(g.questions.length);
    expect(sfz04.filter((c) => c.kind === 'situation').map((c) => c.situation)).toEqual(g.situations.map((s) => s.name));
  });
});

describe('the full knowledge base', () => {
  let kb: Awaited<ReturnType<typeof openKnowledgeBase>>;
  let dataDir = '';
  beforeAll(async () => {
    dataDir = tempDir();
    kb = await openKnowledgeBase({ ...config, dataDir });
  });
  afterAll(() => removeDir(dataDir));

  it('indexes all 121 items', () => {
    expect(kb.index.meta.itemCount).toBe(121);
    expect(new Set(kb.index.chunks.map((c) => c.itemId)).size).toBe(121);
  });

  it.each([
    ['身份证掉了咋整', 'sfz-04'],
    ['身份證遺失要怎麼補辦', 'sfz-04'],
    ['驾照过期了怎么换', 'jsz-02'],
    ['lost my passport', 'crj-03'],
    ['二手车过户要什么手续', 'jdc-03'],
    ['开无犯罪证明', 'za-01'],
  ])('finds the item for %s', async (q, id) => {
    const r = await kb.retriever.retrieve(q);
    expect(r.candidates[0]?.id).toBe(id);
    expect(r.confidence).toBeGreaterThan(0.5);
  });

  it('keeps each hit’s scores from both retrievers', async () => {
    const r = await kb.retriever.retrieve('身份证丢了补办多少钱');
    expect(r.aspect).toBe('fees');
    const top = r.candidates[0]!;
    expect(top.evidence.some((e) => e.bm25 && e.dense)).toBe(true);
  });

  it('is far less confident about a question no guide covers', async () => {
    const known = await kb.retriever.retrieve('身份证丢了怎么补办');
    const unknown = await kb.retriever.retrieve('今天中午吃什么好呢');
    expect(unknown.confidence).toBeLessThan(known.confidence);
    expect(unknown.confidence).toBeLessThan(0.5);
  });
});

describe('HashedNgramEmbeddings', () => {
  it('is deterministic, normalised, and tolerant of a typo', async () => {
    const e = new HashedNgramEmbeddings({ dimensions: 256 });
    e.fit(['居民身份证丢失补领', '普通护照首次申领', '驾驶证有效期满换证']);
    const [a, b] = await e.embedDocuments(['身份证丢失补领', '身份证丢失补领']);
    expect(a).toEqual(b);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 6);
    const cos = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    const typo = await e.embedQuery('身分证丢失补领');
    const other = await e.embedQuery('普通护照首次申领');
    expect(cos(a!, typo)).toBeGreaterThan(cos(a!, other));
  });

  it('restores its fitted state', async () => {
    const e = new HashedNgramEmbeddings({ dimensions: 64 });
    e.fit(['甲乙丙', '乙丙丁']);
    const copy = new HashedNgramEmbeddings(JSON.parse(JSON.stringify(e.toJSON())));
    expect(await copy.embedQuery('甲乙')).toEqual(await e.embedQuery('甲乙'));
  });
});
