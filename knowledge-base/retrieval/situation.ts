/** Which 情形 of a guide a message already names, from each 情形's keywords. */
import type { Guide, Situation } from '../guide.ts';
import type { Normalizer } from '../text/normalize.ts';

export function detectSituation(guide: Guide, normalized: string, normalizer: Normalizer): Situation | null {
  let best: { s: Situation; len: number } | null = null;
  for (const s of guide.situations) {
    for (const k of [s.name, ...s.keywords]) {
      const key = normalizer.normalize(k);
      if (key && normalized.includes(key) && (!best || key.length > best.len)) best = { s, len: key.length };
    }
  }
  return best?.s ?? null;
}
