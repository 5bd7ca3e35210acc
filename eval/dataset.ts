/** Labelled eval questions: one JSON object a line. */
import { readFileSync } from 'node:fs';
import { ASPECTS as ASPECT_KEYS, type Aspect } from '../knowledge-base/lexicon.ts';
import type { Intent } from '../bot/understand/rule-intent.ts';

export interface EvalCase {
  q: string;
  intent: Exclude<Intent, 'clarify'>;
  item: string | null;
  aspect: Aspect;
  number?: string;
  /** The fact an answer must contain: any one of these strings (whitespace ignored). */
  fact?: string[];
  tags: string[];
  line: number;
}

const INTENTS = new Set(['answer', 'emergency', 'out_of_scope', 'handoff', 'case', 'progress', 'greeting']);
const ASPECTS = new Set<string>([...ASPECT_KEYS, 'general']);

export function readDataset(file: string, itemIds: Set<string>): EvalCase[] {
  const cases: EvalCase[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${file}:${i + 1}`;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${where}: not JSON: ${(e as Error).message}`);
      }
      if (typeof o.q !== 'string' || !o.q.trim()) throw new Error(`${where}: "q" must be the question text`);
      if (!INTENTS.has(String(o.intent))) throw new Error(`${where}: unknown intent "${String(o.intent)}"`);
      if (o.intent === 'answer' && !itemIds.has(String(o.item))) throw new Error(`${where}: unknown item "${String(o.item)}"`);
      const aspect = String(o.aspect ?? 'general');
      if (!ASPECTS.has(aspect)) throw new Error(`${where}: unknown aspect "${aspect}"`);
      if (o.fact !== undefined && (!Array.isArray(o.fact) || !o.fact.length || !o.fact.every((f) => typeof f === 'string' && f.trim()))) {
        throw new Error(`${where}: "fact" must be a list of one or more strings`);
      }
      cases.push({
        q: o.q,
        intent: o.intent as EvalCase['intent'],
        item: o.intent === 'answer' ? String(o.item) : null,
        aspect: aspect as Aspect,
        number: o.number ? String(o.number) : undefined,
        fact: o.fact as string[] | undefined,
        tags: Array.isArray(o.tags) ? o.tags.map(String) : [],
        line: i + 1,
      });
    });
  return cases;
}
