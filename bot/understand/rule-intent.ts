/**
 * Intents decided by rules before retrieval: emergencies first (recall over precision),
 * then 转人工, progress queries, complaints and reports, greetings, and topics outside
 * public security. Rules are data in knowledge-base/lexicon/intents.yaml.
 */
import type { IntentRules } from '../../knowledge-base/lexicon.ts';

export type Intent = 'answer' | 'clarify' | 'emergency' | 'out_of_scope' | 'handoff' | 'case' | 'progress' | 'greeting';

export interface Emergency {
  number: string;
  also: string[];
  reason: string;
  reasonEn: string;
  advice: string;
  adviceEn: string;
}

export type RuleIntent =
  | { intent: 'emergency'; emergency: Emergency }
  | { intent: 'handoff' | 'case' | 'progress' | 'greeting' };

export interface OutOfScope {
  topic: string;
  where: string;
}

/** Retrieval confidence above which a scope keyword no longer makes a question out of scope. */
export const SCOPE_KEYWORD_BELOW = 0.6;
/** Below this overlap with its top item, a question's match is too thin to keep it in scope. */
export const WEAK_EVIDENCE = 0.4;

export function detectEmergency(cleaned: string, rules: IntentRules): Emergency | null {
  for (const r of rules.emergency) {
    if (r.patterns.some((p) => p.test(cleaned)) && !r.unless.some((p) => p.test(cleaned))) {
      return { number: r.number, also: r.also, reason: r.reason, reasonEn: r.reasonEn, advice: r.advice, adviceEn: r.adviceEn };
    }
  }
  return null;
}

const FILLERS = /[\s\p{P}\p{S}啊呀哈哦噢呢吧嘛啦了的哟喔~]+/gu;

/** True when the message is nothing but greeting, thanks or goodbye words. */
export function isGreeting(cleaned: string, words: string[]): boolean {
  let rest = cleaned;
  // Longest words first, so 谢谢你 goes before 谢谢.
  for (const w of [...words].sort((a, b) => b.length - a.length)) rest = rest.split(w).join(' ');
  return rest !== cleaned && rest.replace(FILLERS, '') === '';
}

/**
 * @param cleaned the message after character cleaning only (no synonym rewriting, which
 *   would hide words like 被偷 or 丢了 that the rules need)
 */
export function detectRuleIntent(cleaned: string, rules: IntentRules): RuleIntent | null {
  const emergency = detectEmergency(cleaned, rules);
  if (emergency) return { intent: 'emergency', emergency };
  if (rules.handoff.some((p) => p.test(cleaned))) return { intent: 'handoff' };
  const howTo = rules.howTo.some((p) => p.test(cleaned));
  if (!howTo && rules.progress.some((p) => p.test(cleaned))) return { intent: 'progress' };
  if (!howTo && rules.case.some((p) => p.test(cleaned))) return { intent: 'case' };
  if (isGreeting(cleaned, rules.greetingWords)) return { intent: 'greeting' };
  return null;
}

/**
 * A topic of another department.
 * - An "always" pattern (美国签证, 社保怎么交) decides, unless the message also names a
 *   public-security term and retrieval is confident (人才落户…社保一直交着 stays ours).
 * - A plain scope word decides only when the message names no public-security term and
 *   retrieval is unsure or has little real overlap (在出租车上丢了包 stays ours).
 * @param evidence the best absolute overlap with the top item (similarity or term coverage)
 */
export function detectOutOfScope(
  cleaned: string,
  rules: IntentRules,
  o: { hasServiceTerm: boolean; confidence: number; evidence: number },
): OutOfScope | null {
  const confidentlyOurs = o.hasServiceTerm && o.confidence >= SCOPE_KEYWORD_BELOW;
  const plain = !o.hasServiceTerm && (o.confidence < SCOPE_KEYWORD_BELOW || o.evidence < WEAK_EVIDENCE);
  for (const s of rules.outOfScope) {
    if ((!confidentlyOurs && s.always.some((p) => p.test(cleaned))) || (plain && s.patterns.some((w) => cleaned.includes(w)))) {
      return { topic: s.topic, where: s.where };
    }
  }
  return null;
}
