/**
 * Asking a draft before it is live: the answer 小安 would give from the draft and from the
 * release in force, the candidates with their per-source scores (BM25, vectors, fused), and
 * whether anything changes. Draft indexes are kept for the last few drafts previewed.
 */
import { Asker, type AskResult } from '../bot/ask.ts';
import type { Config } from '../bot/config.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import { openKnowledgeFiles } from './live-knowledge.ts';
import { checksumOf, type KbFiles } from './releases.ts';

const KEEP = 2;

export interface PreviewSide {
  intent: AskResult['intent'];
  item: AskResult['item'];
  aspect: AskResult['aspect'];
  confidence: number;
  answer: string | null;
  sources: Array<{ itemId: string; section: string }>;
  candidates: Array<{ id: string; name: string; fused: number; bm25: { rank: number; score: number } | null; dense: { rank: number; score: number } | null }>;
}

export interface Preview {
  question: string;
  draft: PreviewSide;
  published: PreviewSide;
  /** The top item or the answer text differs between the draft and the release in force. */
  changed: boolean;
}

async function side(kb: KnowledgeBase, question: string): Promise<PreviewSide> {
  const r = await new Asker(kb).ask(question);
  const retrieval = await kb.retriever.retrieve(question);
  const best = (hits: Array<{ rank: number; score: number } | undefined>) => hits.filter((h): h is { rank: number; score: number } => !!h).sort((a, b) => a.rank - b.rank)[0] ?? null;
  return {
    intent: r.intent,
    item: r.item,
    aspect: r.aspect,
    confidence: r.confidence,
    answer: r.answer?.text ?? null,
    sources: r.answer?.sources ?? [],
    candidates: retrieval.candidates.slice(0, 5).map((c) => ({
      id: c.id,
      name: c.name,
      fused: Math.round(c.score * 1000) / 1000,
      bm25: best(c.evidence.map((e) => e.bm25)),
      dense: best(c.evidence.map((e) => e.dense)),
    })),
  };
}

export class DraftPreviewer {
  private readonly open = new Map<string, Promise<KnowledgeBase>>();

  constructor(
    private readonly config: Config,
    private readonly published: () => KnowledgeBase,
  ) {}

  private kbOf(files: KbFiles): Promise<KnowledgeBase> {
    const key = checksumOf(files);
    let kb = this.open.get(key);
    if (!kb) {
      kb = openKnowledgeFiles(this.config, files, { checksum: key });
      kb.catch(() => this.open.delete(key));
      this.open.set(key, kb);
      // The oldest goes: a few indexes at most stay in memory.
      while (this.open.size > KEEP) this.open.delete(this.open.keys().next().value!);
    }
    return kb;
  }

  async ask(files: KbFiles, question: string): Promise<Preview> {
    const [draft, published] = await Promise.all([this.kbOf(files).then((kb) => side(kb, question)), side(this.published(), question)]);
    return { question, draft, published, changed: draft.item?.id !== published.item?.id || draft.answer !== published.answer };
  }
}
