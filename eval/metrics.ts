/** Eval metrics from labelled cases and 小安's results. Pure: no I/O. */
import type { AskResult } from '../bot/ask.ts';
import type { EvalCase } from './dataset.ts';
import type { Aspect } from '../knowledge-base/lexicon.ts';

export interface Outcome {
  c: EvalCase;
  r: AskResult;
  category?: string;
  /** The baseline's items for the same question, best first (when it was run). */
  baseline?: string[];
}

export interface CategoryRow {
  category: string;
  n: number;
  top1: number;
  top3: number;
}

export interface Metrics {
  n: number;
  itemQuestions: number;
  top1: number;
  top3: number;
  /** The plain MiniSearch baseline's top-1 and top-3 on the same questions (null when not run). */
  baselineTop1: number | null;
  baselineTop3: number | null;
  aspectAccuracy: number;
  /** The same against labels of the first seven aspects: a newer question type counted as the aspect it grew out of. */
  aspectAccuracyLegacy: number;
  intentAccuracy: number;
  answeredRate: number;
  answeredPrecision: number;
  emergencyRecall: number;
  emergencyNumberAccuracy: number;
  falseEmergencies: number;
  outOfScopePrecision: number;
  outOfScopeRecall: number;
  /** Questions labelled with the fact an answer must contain, and the share of answers that contain it (anywhere; in the first 120 characters). */
  factQuestions: number;
  factFound: number;
  factFirst120: number;
  factMisses: Array<{ q: string; fact: string; answer: string }>;
  latencyP50: number;
  latencyP95: number;
  expectedCalibrationError: number;
  perCategory: CategoryRow[];
  perTag: Array<{ tag: string; n: number; top1: number }>;
  worstMisses: Array<{ q: string; expected: string; got: string; intent: string; confidence: number }>;
  intentMisses: Array<{ q: string; expected: string; got: string }>;
}

const ratio = (a: number, b: number) => (b ? a / b : 1);
/** The aspect of the first taxonomy (materials … online, general) each newer question type was labelled with. */
const LEGACY: Partial<Record<Aspect, Aspect>> = { eligibility: 'conditions', proxy: 'conditions', exam: 'conditions', validity: 'conditions', consequence: 'conditions', deadline: 'time', urgent: 'time' };
const legacy = (a: Aspect) => LEGACY[a] ?? a;
export const isItemIntent = (intent: string) => intent === 'answer' || intent === 'clarify';
export const top1Correct = (o: Outcome) => isItemIntent(o.r.intent) && o.r.candidates[0]?.id === o.c.item;
export const top3Correct = (o: Outcome) =>
  isItemIntent(o.r.intent) && o.r.candidates.slice(0, 3).some((x) => x.id === o.c.item);

/** Where the fact first ends in the answer (characters, whitespace ignored), or -1. */
export function factEnd(answer: string, facts: string[]): number {
  const flat = (s: string) => s.normalize('NFKC').replace(/\s+/g, '');
  const a = flat(answer);
  const ends = facts.map((f) => {
    const i = a.indexOf(flat(f));
    return i < 0 ? -1 : [...a.slice(0, i + flat(f).length)].length;
  }).filter((e) => e >= 0);
  return ends.length ? Math.min(...ends) : -1;
}
/** An answer shorter than this leads with its fact. */
export const FACT_LEAD_CHARS = 120;

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function computeMetrics(outcomes: Outcome[]): Metrics {
  const items = outcomes.filter((o) => o.c.intent === 'answer');
  const emergencies = outcomes.filter((o) => o.c.intent === 'emergency');
  const predictedOos = outcomes.filter((o) => o.r.intent === 'out_of_scope');
  const labelledOos = outcomes.filter((o) => o.c.intent === 'out_of_scope');
  const answered = items.filter((o) => o.r.intent === 'answer');
  const coarse = (i: string) => (i === 'clarify' ? 'answer' : i);

  const categories = new Map<string, Outcome[]>();
  for (const o of items) {
    const k = o.category ?? '?';
    categories.set(k, [...(categories.get(k) ?? []), o]);
  }
  const tags = new Map<string, Outcome[]>();
  for (const o of items) for (const t of o.c.tags) tags.set(t, [...(tags.get(t) ?? []), o]);

  // Expected calibration error of confidence against top-1 correctness, 10 bins.
  let ece = 0;
  for (let b = 0; b < 10; b++) {
    const bin = items.filter((o) => Math.min(9, Math.floor(o.r.confidence * 10)) === b);
    if (!bin.length) continue;
    const acc = bin.filter(top1Correct).length / bin.length;
    const conf = bin.reduce((s, o) => s + o.r.confidence, 0) / bin.length;
    ece += (bin.length / items.length) * Math.abs(acc - conf);
  }

  const latencies = outcomes.map((o) => o.r.latencyMs);
  const withFact = items.filter((o) => o.c.fact);
  const factAt = (o: Outcome) => factEnd(o.r.answer?.text ?? '', o.c.fact!);
  return {
    n: outcomes.length,
    itemQuestions: items.length,
    top1: ratio(items.filter(top1Correct).length, items.length),
    top3: ratio(items.filter(top3Correct).length, items.length),
    baselineTop1: items.length && items.every((o) => o.baseline) ? ratio(items.filter((o) => o.baseline![0] === o.c.item).length, items.length) : null,
    baselineTop3: items.length && items.every((o) => o.baseline) ? ratio(items.filter((o) => o.baseline!.slice(0, 3).includes(o.c.item!)).length, items.length) : null,
    aspectAccuracy: ratio(items.filter((o) => o.r.aspect === o.c.aspect).length, items.length),
    aspectAccuracyLegacy: ratio(items.filter((o) => legacy(o.r.aspect) === legacy(o.c.aspect)).length, items.length),
    intentAccuracy: ratio(outcomes.filter((o) => coarse(o.r.intent) === o.c.intent).length, outcomes.length),
    answeredRate: ratio(answered.length, items.length),
    answeredPrecision: ratio(answered.filter(top1Correct).length, answered.length),
    emergencyRecall: ratio(emergencies.filter((o) => o.r.intent === 'emergency').length, emergencies.length),
    emergencyNumberAccuracy: ratio(
      emergencies.filter((o) => o.r.intent === 'emergency' && (!o.c.number || o.r.emergency?.number === o.c.number)).length,
      emergencies.length,
    ),
    falseEmergencies: outcomes.filter((o) => o.c.intent !== 'emergency' && o.r.intent === 'emergency').length,
    outOfScopePrecision: ratio(predictedOos.filter((o) => o.c.intent === 'out_of_scope').length, predictedOos.length),
    outOfScopeRecall: ratio(labelledOos.filter((o) => o.r.intent === 'out_of_scope').length, labelledOos.length),
    factQuestions: withFact.length,
    factFound: ratio(withFact.filter((o) => factAt(o) >= 0).length, withFact.length),
    factFirst120: ratio(withFact.filter((o) => factAt(o) >= 0 && factAt(o) <= FACT_LEAD_CHARS).length, withFact.length),
    factMisses: withFact
      .filter((o) => factAt(o) < 0)
      .slice(0, 25)
      .map((o) => ({ q: o.c.q, fact: o.c.fact!.join(' / '), answer: (o.r.answer?.text ?? '').replace(/\s+/g, ' ').slice(0, 90) })),
    latencyP50: percentile(latencies, 50),
    latencyP95: percentile(latencies, 95),
    expectedCalibrationError: ece,
    perCategory: [...categories]
      .map(([category, os]) => ({
        category,
        n: os.length,
        top1: ratio(os.filter(top1Correct).length, os.length),
        top3: ratio(os.filter(top3Correct).length, os.length),
      }))
      .sort((a, b) => a.category.localeCompare(b.category)),
    perTag: [...tags]
      .map(([tag, os]) => ({ tag, n: os.length, top1: ratio(os.filter(top1Correct).length, os.length) }))
      .sort((a, b) => a.tag.localeCompare(b.tag)),
    worstMisses: items
      .filter((o) => !top1Correct(o))
      .sort((a, b) => b.r.confidence - a.r.confidence)
      .slice(0, 15)
      .map((o) => ({
        q: o.c.q,
        expected: o.c.item!,
        got: o.r.candidates[0]?.id ?? '-',
        intent: o.r.intent,
        confidence: o.r.confidence,
      })),
    intentMisses: outcomes
      .filter((o) => coarse(o.r.intent) !== o.c.intent)
      .slice(0, 25)
      .map((o) => ({ q: o.c.q, expected: o.c.intent, got: o.r.intent })),
  };
}
