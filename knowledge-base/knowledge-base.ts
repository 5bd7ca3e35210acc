/** Opens the knowledge base: guides, lexicon, the persisted index, retriever and terms. */
import type { Config } from '../bot/config.ts';
import { fileProblems, readGuideSet, type GuideSet } from './guide-set.ts';
import { embeddingsProvider } from './embeddings/provider.ts';
import { openIndex, type KnowledgeIndex, type Progress } from './knowledge-index.ts';
import { loadCalibration } from './retrieval/confidence.ts';
import { Retriever } from './retrieval/retriever.ts';
import { ServiceTerms } from './service-terms.ts';
import { loadTextPipeline, type TextPipeline } from './text-pipeline.ts';

export interface KnowledgeBase {
  set: GuideSet;
  text: TextPipeline;
  index: KnowledgeIndex;
  retriever: Retriever;
  terms: ServiceTerms;
  /** The release of the store it was opened from (LiveKnowledge sets it; absent when opened from files). */
  release?: number;
  /** True when this call built the index; false when a saved one was reused. */
  built: boolean;
}

/** The guides do not parse or validate: nothing can be built from them until they are fixed. */
export class GuideProblemsError extends Error {}

export async function openKnowledgeBase(config: Config, onProgress?: Progress): Promise<KnowledgeBase> {
  const set = readGuideSet(config.guidesDir);
  const broken = fileProblems(set);
  if (broken.length) {
    const first = broken[0]!;
    const files = new Set(broken.map((p) => p.file)).size;
    throw new GuideProblemsError(`${files} guide file(s) have problems, e.g. ${first.file}:${first.line}: ${first.message}. Run "npx xiaoan kb validate".`);
  }
  const text = loadTextPipeline(config.lexiconDir);
  const { index, built } = await openIndex(config.dataDir, set, text, embeddingsProvider(config.embeddings), onProgress);
  return {
    set,
    text,
    index,
    retriever: new Retriever(index, text, loadCalibration()),
    terms: new ServiceTerms(set.guides, text),
    built,
  };
}
