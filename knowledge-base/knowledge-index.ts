/**
 * The built knowledge index: chunks, BM25 over jieba tokens, and dense vectors in hnswlib.
 * Persisted under DATA_DIR/index/<checksum>/ and reused while guides, lexicon and the
 * embeddings model are unchanged.
 */
import { fallbackLog } from '../bot/log.ts';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { HNSWLib } from '@langchain/community/vectorstores/hnswlib';
import { chunkGuides, indexTextOf, type Chunk } from './chunks.ts';
import type { Guide } from './guide.ts';
import type { GuideSet } from './guide-set.ts';
import { HashedNgramEmbeddings } from './embeddings/hashed-embeddings.ts';
import { Bm25Index, type Bm25Data } from './retrieval/bm25.ts';
import type { TextPipeline } from './text-pipeline.ts';

/** Bump when the on-disk layout or the chunking changes, so old indexes are rebuilt. */
export const INDEX_FORMAT = 3;

export interface EmbeddingsProvider {
  /** Stable id of the model, part of the checksum (e.g. "hashed-ngram-1024", "openai:bge-m3@url"). */
  id: string;
  /** A fresh embeddings instance; hashed embeddings are fitted on the chunks first. */
  create(): EmbeddingsInterface | Promise<EmbeddingsInterface>;
}

export interface IndexMeta {
  format: number;
  checksum: string;
  guidesChecksum: string;
  embeddings: string;
  itemCount: number;
  chunkCount: number;
  builtAt: string;
  buildMs: number;
}

export class KnowledgeIndex {
  readonly guides: Map<string, Guide>;
  constructor(
    guides: Guide[],
    readonly chunks: Chunk[],
    readonly bm25: Bm25Index,
    readonly vectors: HNSWLib,
    readonly embeddings: EmbeddingsInterface,
    readonly meta: IndexMeta,
  ) {
    this.guides = new Map(guides.map((g) => [g.id, g]));
  }
}

export function indexChecksum(set: GuideSet, text: TextPipeline, embeddingsId: string): string {
  const h = createHash('sha256').update(`format:${INDEX_FORMAT}\0guides:${set.checksum}\0emb:${embeddingsId}\0`);
  for (const f of text.lexicon.files) h.update(f.name).update('\0').update(f.text).update('\0');
  return h.digest('hex');
}

export type Progress = (done: number, total: number, stage: string) => void;

export async function buildIndex(
  set: GuideSet,
  text: TextPipeline,
  provider: EmbeddingsProvider,
  onProgress: Progress = () => {},
): Promise<KnowledgeIndex> {
  const started = performance.now();
  const chunks = chunkGuides(set.guides);
  const normalized = chunks.map((c) => text.normalizer.normalize(indexTextOf(c)));
  const bm25 = Bm25Index.build(normalized.map((t) => text.tokenizer.tokens(t)));
  const texts = normalized.map(text.denseText);
  const embeddings = await provider.create();
  if (embeddings instanceof HashedNgramEmbeddings) embeddings.fit(texts);

  const vectors = new HNSWLib(embeddings, { space: 'cosine' });
  const batch = 128;
  for (let i = 0; i < texts.length; i += batch) {
    const part = texts.slice(i, i + batch);
    const vecs = await embeddings.embedDocuments(part);
    if (vecs.length !== part.length || vecs.some((v) => !v?.length)) {
      throw new Error(`the embeddings model "${provider.id}" returned ${vecs.length} vectors for ${part.length} texts, or empty ones`);
    }
    await vectors.addVectors(
      vecs,
      part.map((t, j) => new Document({ pageContent: t, metadata: { chunk: i + j } })),
    );
    onProgress(Math.min(i + batch, texts.length), texts.length, 'embedding');
  }
  const meta: IndexMeta = {
    format: INDEX_FORMAT,
    checksum: indexChecksum(set, text, provider.id),
    guidesChecksum: set.checksum,
    embeddings: provider.id,
    itemCount: set.guides.length,
    chunkCount: chunks.length,
    builtAt: new Date().toISOString(),
    buildMs: Math.round(performance.now() - started),
  };
  return new KnowledgeIndex(set.guides, chunks, bm25, vectors, embeddings, meta);
}

export function indexDir(dataDir: string, checksum: string): string {
  return path.join(dataDir, 'index', checksum.slice(0, 16));
}

/** Writes to a temporary folder first, then renames, so a crash never leaves half an index. */
export async function saveIndex(index: KnowledgeIndex, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  await index.vectors.save(path.join(tmp, 'hnsw'));
  await writeFile(path.join(tmp, 'bm25.json'), JSON.stringify(index.bm25.toJSON()));
  if (index.embeddings instanceof HashedNgramEmbeddings) {
    await writeFile(path.join(tmp, 'embeddings.json'), JSON.stringify(index.embeddings.toJSON()));
  }
  await writeFile(path.join(tmp, 'meta.json'), JSON.stringify(index.meta, null, 2));
  try {
    await rename(tmp, dir);
  } catch {
    // An older index is in the way (replaced), or a replica on the same DATA_DIR saved this one
    // a moment ago (then ours is the same, and dropped).
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch(() => rm(tmp, { recursive: true, force: true }));
  }
}

/** Loads a saved index, or returns null when there is none or it does not match the guides. */
export async function loadIndex(
  dir: string,
  set: GuideSet,
  text: TextPipeline,
  provider: EmbeddingsProvider,
): Promise<KnowledgeIndex | null> {
  const metaFile = path.join(dir, 'meta.json');
  if (!existsSync(metaFile)) return null;
  const meta = JSON.parse(await readFile(metaFile, 'utf8')) as IndexMeta;
  if (meta.format !== INDEX_FORMAT || meta.checksum !== indexChecksum(set, text, provider.id)) return null;
  const chunks = chunkGuides(set.guides);
  if (chunks.length !== meta.chunkCount) return null;
  const bm25 = Bm25Index.fromJSON(JSON.parse(await readFile(path.join(dir, 'bm25.json'), 'utf8')) as Bm25Data);
  let embeddings = await provider.create();
  if (embeddings instanceof HashedNgramEmbeddings) {
    embeddings = new HashedNgramEmbeddings(JSON.parse(await readFile(path.join(dir, 'embeddings.json'), 'utf8')));
  }
  const vectors = await HNSWLib.load(path.join(dir, 'hnsw'), embeddings);
  return new KnowledgeIndex(set.guides, chunks, bm25, vectors, embeddings, meta);
}

/** The index for these guides: loaded when already built, else built and saved. */
export async function openIndex(
  dataDir: string,
  set: GuideSet,
  text: TextPipeline,
  provider: EmbeddingsProvider,
  onProgress?: Progress,
): Promise<{ index: KnowledgeIndex; built: boolean }> {
  const dir = indexDir(dataDir, indexChecksum(set, text, provider.id));
  let loaded: KnowledgeIndex | null = null;
  try {
    loaded = await loadIndex(dir, set, text, provider);
  } catch (e) {
    // A damaged saved index is rebuilt, not fatal; say so, since it costs a rebuild.
    fallbackLog().warn({ dir, err: e }, 'saved index could not be read; rebuilding');
  }
  if (loaded) return { index: loaded, built: false };
  const index = await buildIndex(set, text, provider, onProgress);
  await saveIndex(index, dir);
  return { index, built: true };
}
