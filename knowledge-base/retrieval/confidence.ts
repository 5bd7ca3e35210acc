/**
 * Confidence that the top item is the one the citizen means: a logistic model over a few
 * retrieval features. Its weights are fitted on the eval set (`xiaoan eval --fit`) and kept
 * as data in calibration.json, so the bot's answer / clarify / don't-know thresholds mean
 * probabilities rather than raw scores.
 */
import { existsSync, readFileSync } from 'node:fs';
import { sourceFile } from '../../bot/paths.ts';

export interface ConfidenceFeatures {
  /** Fused score of the top item, scaled to 0–1. */
  top: number;
  /** 1 − second/top: how far ahead the top item is. */
  margin: number;
  /** Best cosine similarity between the question and the top item's names or 相似问. */
  questionSim: number;
  /** Best cosine similarity between the question and any chunk of the top item. */
  anySim: number;
  /** 1 when BM25 and vectors both rank the top item first. */
  agree: number;
  /** Share of the question's informative tokens (by IDF) found in the top item's best BM25 chunk. */
  coverage: number;
}

export const FEATURE_NAMES: Array<keyof ConfidenceFeatures> = ['top', 'margin', 'questionSim', 'anySim', 'agree', 'coverage'];

export interface Calibration {
  weights: Record<keyof ConfidenceFeatures, number>;
  bias: number;
  /** Where the weights came from (e.g. "fitted on eval/datasets/dev.jsonl, 2026-11-23"). */
  source: string;
}

/** Hand-set starting point, used until a fitted calibration.json exists. */
export const DEFAULT_CALIBRATION: Calibration = {
  weights: { top: 2, margin: 3, questionSim: 4, anySim: 1, agree: 1, coverage: 2 },
  bias: -5,
  source: 'default',
};

export const CALIBRATION_FILE = sourceFile(import.meta.url, 'calibration.json');

export function loadCalibration(file = CALIBRATION_FILE): Calibration {
  if (!existsSync(file)) return DEFAULT_CALIBRATION;
  return JSON.parse(readFileSync(file, 'utf8')) as Calibration;
}

export function confidence(f: ConfidenceFeatures, c: Calibration): number {
  let z = c.bias;
  for (const k of FEATURE_NAMES) z += (c.weights[k] ?? 0) * f[k];
  return 1 / (1 + Math.exp(-z));
}

/** Logistic regression by gradient descent with a little L2; small data, so plain and exact. */
export function fitCalibration(rows: Array<{ f: ConfidenceFeatures; correct: boolean }>, source: string): Calibration {
  const w = Object.fromEntries(FEATURE_NAMES.map((k) => [k, 0])) as Record<keyof ConfidenceFeatures, number>;
  let b = 0;
  const lr = 0.5;
  const l2 = 1e-3;
  for (let epoch = 0; epoch < 4000; epoch++) {
    const gw = Object.fromEntries(FEATURE_NAMES.map((k) => [k, 0])) as Record<keyof ConfidenceFeatures, number>;
    let gb = 0;
    for (const { f, correct } of rows) {
      let z = b;
      for (const k of FEATURE_NAMES) z += w[k] * f[k];
      const err = 1 / (1 + Math.exp(-z)) - (correct ? 1 : 0);
      for (const k of FEATURE_NAMES) gw[k] += err * f[k];
      gb += err;
    }
    for (const k of FEATURE_NAMES) w[k] -= lr * (gw[k] / rows.length + l2 * w[k]);
    b -= lr * (gb / rows.length);
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    weights: Object.fromEntries(FEATURE_NAMES.map((k) => [k, round(w[k])])) as Calibration['weights'],
    bias: round(b),
    source,
  };
}
