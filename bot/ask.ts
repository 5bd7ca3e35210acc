/**
 * One question in, one understanding out: the single-turn pipeline behind `xiaoan ask`,
 * the eval and, later, the dialog's understand step.
 *   rules (emergency first) → retrieval → answer / clarify / out of scope
 */
import { handleEmergency } from '../handlers/emergency.ts';
import { situationAsked } from '../knowledge-base/answer-units.ts';
import { composeAnswer, type Answer } from '../handlers/policy-answer.ts';
import { inLanguage, isEnglish, text, type Language } from '../handlers/texts.ts';
import type { KnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import type { Aspect } from '../knowledge-base/lexicon.ts';
import type { ConfidenceFeatures } from '../knowledge-base/retrieval/confidence.ts';
import { detectOutOfScope, detectRuleIntent, type Emergency, type Intent } from './understand/rule-intent.ts';

export const MAX_QUESTION_CHARS = 2000;

/** Confidence at or above which 小安 answers with the top item. */
export const ANSWER_AT = 0.6;
/** Below this, and with no service term in the message, 小安 says it did not understand. */
export const UNKNOWN_BELOW = 0.15;
/** Candidates offered in a clarifying question score at least this share of the top one. */
const CLARIFY_SHARE = 0.35;

export interface AskResult {
  query: string;
  normalized: string;
  intent: Intent;
  item: { id: string; name: string } | null;
  candidates: Array<{ id: string; name: string; score: number }>;
  aspect: Aspect;
  confidence: number;
  answer: Answer | null;
  latencyMs: number;
  emergency?: Emergency;
  situation?: string;
  features?: ConfidenceFeatures;
  /** The language of the question, and of the answer. */
  lang: Language;
  /** Whether the message names a public-security service term (the dialog reuses it). */
  namesService?: boolean;
}

export class QuestionError extends Error {}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

export class Asker {
  constructor(private readonly kb: KnowledgeBase) {}

  async ask(query: string): Promise<AskResult> {
    const started = performance.now();
    if (typeof query !== 'string' || !query.trim()) throw new QuestionError('问题不能为空 (empty question)');
    if (query.length > MAX_QUESTION_CHARS) {
      throw new QuestionError(`问题太长了，请控制在 ${MAX_QUESTION_CHARS} 字以内 (question longer than ${MAX_QUESTION_CHARS} characters)`);
    }
    const lang: Language = isEnglish(query, this.kb.text.lexicon.stopwords) ? 'en' : 'zh';
    return inLanguage(lang, () => this.understand(query, lang, started));
  }

  private async understand(query: string, lang: Language, started: number): Promise<AskResult> {
    const { normalizer, lexicon } = this.kb.text;
    const cleaned = normalizer.clean(query);
    const r = await this.kb.retriever.retrieve(query);
    const hasServiceTerm = this.kb.terms.mentionedIn(r.normalized);
    const rule = detectRuleIntent(cleaned, lexicon.intents);
    const candidates = r.candidates.map((c) => ({ id: c.id, name: c.name, score: round(c.score) }));
    const top = r.candidates[0];
    const base = {
      query,
      normalized: r.normalized,
      candidates,
      aspect: r.aspect,
      confidence: round(r.confidence),
      features: r.features,
      lang,
      namesService: hasServiceTerm,
    };
    const done = (rest: Pick<AskResult, 'intent' | 'item' | 'answer'> & Partial<AskResult>): AskResult => ({
      ...base,
      ...rest,
      latencyMs: round(performance.now() - started, 2),
    });

    if (rule?.intent === 'emergency') {
      const told = handleEmergency(rule.emergency).replies[0] as { text: string };
      return done({ intent: 'emergency', item: null, emergency: rule.emergency, answer: { text: told.text, sources: [] } });
    }
    if (rule) return done({ intent: rule.intent, item: null, answer: { text: text(rule.intent), sources: [] } });
    const evidence = Math.max(r.features.questionSim, r.features.coverage);
    const scope = detectOutOfScope(cleaned, lexicon.intents, { hasServiceTerm, confidence: r.confidence, evidence });
    if (scope) {
      return done({ intent: 'out_of_scope', item: null, answer: { text: text('out_of_scope', { topic: `（${scope.topic}）`, where: scope.where }), sources: [] } });
    }
    // Nothing recognisable: ask to rephrase rather than guess (it may still be ours).
    if (!top || (!hasServiceTerm && r.confidence < UNKNOWN_BELOW)) {
      return done({ intent: 'clarify', item: null, answer: { text: text('clarify_none'), sources: [] } });
    }
    if (r.confidence >= ANSWER_AT) {
      const guide = this.kb.index.guides.get(top.id)!;
      const situation = situationAsked(guide, r.normalized, r.aspect, this.kb.text);
      return done({
        intent: 'answer',
        item: { id: top.id, name: top.name },
        situation: situation?.name,
        answer: composeAnswer(guide, { aspect: r.aspect, rules: lexicon.aspects, situation, query: r.normalized, text: this.kb.text, english: this.kb.set.english.get(guide.id) }),
      });
    }
    const offered = r.candidates.filter((c) => c.score >= top.score * CLARIFY_SHARE);
    return done({
      intent: 'clarify',
      item: null,
      answer: {
        text: `${text('clarify')}\n${offered.map((c, i) => `${i + 1}. ${(lang === 'en' && this.kb.set.english.get(c.id)?.name) || c.name}`).join('\n')}`,
        sources: [],
      },
    });
  }
}
