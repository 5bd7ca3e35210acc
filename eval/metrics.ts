/** Eval metrics from labelled cases and 小安's results. Pure: no I/O. */
import type { AskResult } from '../bot/ask.ts';
import type { EvalCase } from './dataset.ts';

export interface Outcome {
  c: EvalCase;
  r: AskResult;
  category?: string;
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
  aspectAccuracy: number;
  intentAccuracy: number;
  answeredRate: number;
  answeredPrecision: number;
  emergencyRecall: number;
  emergencyNumberAccuracy: number;
  falseEmergencies: number;
  outOfScopePrecision: number;
  outOfScopeRecall: number;
  latencyP50: number;
  latencyP95: number;
  expectedCalibrationError: number;
  perCategory: CategoryRow[];
  perTag: Array<{ tag: string; n: number; top1: number }>;
  worstMisses: Array<{ q: string; expected: string; got: string; intent: string; confidence: number }>;
  intentMisses: Array<{ q: string; expected: string; got: string }>;
}

const ratio = (a: number, b: number) => (b ? a / b : 1);
export const isItemIntent = (intent: string) => intent === 'answer' || intent === 'clarify';
export const top1Correct = (o: Outcome) => isItemIntent(o.r.intent) && o.r.candidates[0]?.id === o.c.item;
export const top3Correct = (o: Outcome) =>
  isItemIntent(o.r.intent) && o.r.candidates.slice(0, 3).some((x) => x.id === o.c.item);

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
  return {
    n: outcomes.length,
    itemQuestions: items.length,
    top1: ratio(items.filter(top1Correct).length, items.length),
    top3: ratio(items.filter(top3Correct).length, items.length),
    aspectAccuracy: ratio(items.filter((o) => o.r.aspect === o.c.aspect).length, items.length),
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
