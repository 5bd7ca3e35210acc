/** Which aspect of an item the question asks about, from the lexicon's aspect rules. */
import type { Aspect, AspectRule } from '../lexicon.ts';

/**
 * Rules are checked in the lexicon's order, most specific first; the first aspect with a
 * matching pattern wins ("网上能办吗" is about online, not conditions).
 */
export function detectAspect(normalized: string, rules: AspectRule[]): Aspect {
  return rules.find((r) => r.patterns.some((p) => p.test(normalized)))?.key ?? 'general';
}

/**
 * The question without its aspect words, so "多少钱" does not pull in every 收费标准 section.
 * Only short matches go: a long one ("能让我老婆代领吗") carries words about the item too.
 */
export function stripAspectWords(normalized: string, rules: AspectRule[], keepIfEmpty = true): string {
  let t = normalized;
  for (const rule of rules) {
    for (const p of rule.global) t = t.replace(p, (m) => (m.length <= 4 ? ' ' : m));
  }
  t = t.replace(/\s+/g, ' ').trim();
  return t.length >= 2 || !keepIfEmpty ? t : normalized;
}
