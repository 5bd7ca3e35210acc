/**
 * Optional: a chat model rephrases the guide lines of a policy answer into one short reply,
 * behind the deterministic grounding guard (integrations/llm). Only an answer built from
 * chosen guide lines is offered to it — never an emergency, a case, progress, a rating, or a
 * whole list of materials; on any doubt, the extractive answer is what the citizen gets.
 */
import type { KnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import { answerUnits } from '../knowledge-base/answer-units.ts';
import { composeAnswer as rephraseUnits, termsFromGuides, type ChatClient, type ComposeUnit, type GroundingTerms, type GuardVerdict } from '../integrations/llm/index.ts';
import type { HandlerOutput } from './handler.ts';
import { currentLanguage } from './texts.ts';

/** What an answer offers for rephrasing: its guide lines, and which reply holds the extractive text. */
export interface Rephrasable {
  units: ComposeUnit[];
  replyIndex: number;
}

export class Rephraser {
  /** The checkable terms (materials, channels) of each guide set, built once per release. */
  private readonly terms = new WeakMap<KnowledgeBase['set'], GroundingTerms>();

  constructor(
    private readonly client: ChatClient,
    private readonly kb: KnowledgeBase,
    private readonly log: (verdict: GuardVerdict & { itemId?: string }) => void,
  ) {}

  private termsOf(): GroundingTerms {
    const set = this.kb.set;
    let t = this.terms.get(set);
    if (!t) {
      t = { terms: termsFromGuides(set.guides.flatMap((g) => answerUnits(g, this.kb.text).map((u) => u.text))) };
      this.terms.set(set, t);
    }
    return t;
  }

  async rephrase(out: HandlerOutput, question: string): Promise<HandlerOutput> {
    const offer = out.rephrasable;
    const reply = offer ? out.replies[offer.replyIndex] : undefined;
    if (!offer || reply?.type !== 'text' || out.meta?.intent !== 'answer') return out;
    const itemId = out.meta.item?.id;
    const { text } = await rephraseUnits(
      { question, units: offer.units, extractive: reply.text, lang: currentLanguage() },
      { client: this.client, terms: this.termsOf(), log: (v) => this.log({ ...v, ...(itemId ? { itemId } : {}) }) },
    );
    const replies = out.replies.map((r, i) => (i === offer.replyIndex ? { ...r, text } : r));
    return { ...out, replies };
  }
}
