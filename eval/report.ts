/** Renders eval metrics as Markdown for people and JSON for tools. */
import type { Metrics } from './metrics.ts';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function markdownReport(name: string, m: Metrics, context: Record<string, string>): string {
  const out: string[] = [];
  out.push(`# Eval: ${name}`, '');
  for (const [k, v] of Object.entries(context)) out.push(`- ${k}: ${v}`);
  out.push('', '| metric | value |', '|---|---|');
  out.push(
    `| questions | ${m.n} (${m.itemQuestions} about items) |`,
    `| item top-1 | ${pct(m.top1)} |`,
    `| item top-3 | ${pct(m.top3)} |`,
    ...(m.baselineTop1 !== null ? [`| baseline (MiniSearch + jieba, same chunks) top-1 / top-3 | ${pct(m.baselineTop1)} / ${pct(m.baselineTop3 ?? 0)} |`] : []),
    `| aspect (question type) accuracy | ${pct(m.aspectAccuracy)} |`,
    `| … against the first seven aspects (newer types counted as the one they grew out of) | ${pct(m.aspectAccuracyLegacy)} |`,
    `| intent accuracy (clarify counted as answer) | ${pct(m.intentAccuracy)} |`,
    `| answered without clarifying | ${pct(m.answeredRate)} |`,
    `| precision when answering | ${pct(m.answeredPrecision)} |`,
    `| emergency recall | ${pct(m.emergencyRecall)} |`,
    `| emergency first number right | ${pct(m.emergencyNumberAccuracy)} |`,
    `| ordinary questions called emergency | ${m.falseEmergencies} |`,
    `| out-of-scope precision | ${pct(m.outOfScopePrecision)} |`,
    `| out-of-scope recall | ${pct(m.outOfScopeRecall)} |`,
    ...(m.factQuestions
      ? [`| answers containing the fact asked (${m.factQuestions} labelled) | ${pct(m.factFound)} |`, `| … within the first 120 characters | ${pct(m.factFirst120)} |`]
      : []),
    `| confidence calibration error (ECE) | ${m.expectedCalibrationError.toFixed(3)} |`,
    `| latency p50 / p95 | ${m.latencyP50.toFixed(2)} ms / ${m.latencyP95.toFixed(2)} ms |`,
  );
  out.push('', '## Per category', '', '| category | n | top-1 | top-3 |', '|---|---|---|---|');
  for (const c of m.perCategory) out.push(`| ${c.category} | ${c.n} | ${pct(c.top1)} | ${pct(c.top3)} |`);
  if (m.perTag.length) {
    out.push('', '## Per kind of question', '', '| tag | n | top-1 |', '|---|---|---|');
    for (const t of m.perTag) out.push(`| ${t.tag} | ${t.n} | ${pct(t.top1)} |`);
  }
  out.push('', '## Worst misses (most confident first)', '', '| question | expected | got | intent | confidence |', '|---|---|---|---|---|');
  for (const w of m.worstMisses) out.push(`| ${w.q.replace(/\|/g, '\\|')} | ${w.expected} | ${w.got} | ${w.intent} | ${w.confidence.toFixed(2)} |`);
  if (m.factMisses.length) {
    out.push('', '## Answers without the fact asked', '', '| question | fact | answer (start) |', '|---|---|---|');
    for (const w of m.factMisses) out.push(`| ${w.q.replace(/\|/g, '\\|')} | ${w.fact} | ${w.answer.replace(/\|/g, '\\|')} |`);
  }
  if (m.intentMisses.length) {
    out.push('', '## Intent misses', '', '| question | expected | got |', '|---|---|---|');
    for (const w of m.intentMisses) out.push(`| ${w.q.replace(/\|/g, '\\|')} | ${w.expected} | ${w.got} |`);
  }
  return `${out.join('\n')}\n`;
}
