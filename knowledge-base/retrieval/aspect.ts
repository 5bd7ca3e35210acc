/** Which aspect of an item the question asks about, from the lexicon's aspect rules. */
import type { Aspect, AspectRule } from '../lexicon.ts';

export function detectAspect(normalized: string, rules: AspectRule[]): Aspect {
  let best: { key: Aspect; hits: number; at: number } | null = null;
  for (const rule of rules) {
    let hits = 0;
    let at = Infinity;
    for (const p of rule.patterns) {
      const m = p.exec(normalized);
      if (m) {
        hits++;
        at = Math.min(at, m.index);
      }
    }
    // More matching patterns wins; on a tie, the aspect mentioned last in the question
    // ("网上能办吗，要多少钱") is usually the one asked.
    if (hits && (!best || hits > best.hits || (hits === best.hits && at > best.at))) best = { key: rule.key, hits, at };
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
