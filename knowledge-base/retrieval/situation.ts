/** Which 情形 of a guide a message already names, from each 情形's keywords. */
import type { Guide, Situation } from '../guide.ts';
import type { Normalizer } from '../text/normalize.ts';

/** Normalised keywords per guide, computed once: guides do not change while loaded. */
const keywordCache = new WeakMap<Guide, Array<{ s: Situation; key: string }>>();

export function detectSituation(guide: Guide, normalized: string, normalizer: Normalizer): Situation | null {
  let keys = keywordCache.get(guide);
  if (!keys) {
    keys = guide.situations.flatMap((s) => [s.name, ...s.keywords].map((k) => ({ s, key: normalizer.normalize(k) })).filter((k) => k.key));
    keywordCache.set(guide, keys);
  }
  let best: { s: Situation; len: number } | null = null;
  for (const { s, key } of keys) {
    if (normalized.includes(key) && (!best || key.length > best.len)) best = { s, len: key.length };
  }
  return best?.s ?? null;
}
