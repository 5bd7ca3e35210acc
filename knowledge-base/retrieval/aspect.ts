/** Which aspect of an item the question asks about, from the lexicon's aspect rules. */
import type { Aspect, AspectRule } from '../lexicon.ts';

/** On a tie, the more specific aspect wins: "网上能办吗" asks about online, not conditions. */
const PRIORITY: Aspect[] = ['fees', 'materials', 'time', 'online', 'place', 'process', 'conditions'];

export function detectAspect(normalized: string, rules: AspectRule[]): Aspect {
  let best: { key: Aspect; hits: number } | null = null;
  for (const rule of rules) {
    const hits = rule.patterns.filter((p) => p.test(normalized)).length;
    if (!hits) continue;
    if (!best || hits > best.hits || (hits === best.hits && PRIORITY.indexOf(rule.key) < PRIORITY.indexOf(best.key))) {
      best = { key: rule.key, hits };
    }
  }
  return best?.key ?? 'general';
}

/** The question without its aspect words, so "多少钱" does not pull in every 收费标准 section. */
export function stripAspectWords(normalized: string, rules: AspectRule[]): string {
  let t = normalized;
  for (const rule of rules) for (const p of rule.patterns) t = t.replace(new RegExp(p.source, 'gi'), ' ');
  t = t.replace(/\s+/g, ' ').trim();
  return t.length >= 2 ? t : normalized;
}
