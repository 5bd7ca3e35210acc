/**
 * `xiaoan eval`: runs every labelled set through the single-turn pipeline, prints the
 * figures and writes Markdown and JSON reports. With --fit, first fits the confidence
 * calibration on the dev set (never on the holdout set).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Asker } from '../bot/ask.ts';
import { PROJECT_ROOT, type Config } from '../bot/config.ts';
import { loadCatalogue } from '../knowledge-base/catalogue.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import { CALIBRATION_FILE, fitCalibration } from '../knowledge-base/retrieval/confidence.ts';
import { Retriever } from '../knowledge-base/retrieval/retriever.ts';
import { readDataset, type EvalCase } from './dataset.ts';
import { computeMetrics, top1Correct, type Metrics, type Outcome } from './metrics.ts';
import { markdownReport } from './report.ts';
import { BaselineSearch } from './baseline.ts';

export const DATASETS_DIR = path.join(PROJECT_ROOT, 'eval', 'datasets');
export const DEV_SET = path.join(DATASETS_DIR, 'dev.jsonl');

/** Runs each case through 小安 (and through the baseline, when given, for its items). */
export async function evaluate(kb: KnowledgeBase, cases: EvalCase[], categories: Map<string, string>, baseline?: BaselineSearch): Promise<Outcome[]> {
  const asker = new Asker(kb);
  // Warm-up: the first question pays for lazy initialisation, not the figures.
  await asker.ask('身份证');
  const outcomes: Outcome[] = [];
  for (const c of cases) {
    const r = await asker.ask(c.q);
    outcomes.push({ c, r, category: c.item ? categories.get(c.item) : undefined, ...(baseline && c.intent === 'answer' ? { baseline: baseline.rank(c.q) } : {}) });
  }
  return outcomes;
}

export async function runEvalCommand(config: Config, o: { dataset?: string[]; fit?: boolean; out: string }): Promise<number> {
  const catalogue = loadCatalogue(config.cataloguePath);
  const ids = new Set(catalogue.map((c) => c.id));
  const categories = new Map(catalogue.map((c) => [c.id, c.category]));
  const files = o.dataset ?? readdirSync(DATASETS_DIR).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(DATASETS_DIR, f));
  if (!files.length) throw new Error(`no datasets in ${DATASETS_DIR}`);
  let kb = await openKnowledgeBase(config);

  if (o.fit) {
    const dev = await evaluate(kb, readDataset(DEV_SET, ids), categories);
    // Item questions teach which top item is right; out-of-scope ones, that no item is,
    // so absolute similarity counts and not only the rank-based scores.
    const rows = dev
      .filter((x) => (x.c.intent === 'answer' || x.c.intent === 'out_of_scope') && x.r.features)
      .map((x) => ({ f: x.r.features!, correct: x.c.intent === 'answer' && top1Correct(x) }));
    const cal = fitCalibration(
      rows,
      `fitted on eval/datasets/dev.jsonl (${rows.length} item and out-of-scope questions), ${new Date().toISOString().slice(0, 10)}`,
    );
    writeFileSync(CALIBRATION_FILE, `${JSON.stringify(cal, null, 2)}\n`);
    console.log(`calibration fitted and saved to ${path.relative(process.cwd(), CALIBRATION_FILE)}`);
    kb = { ...kb, retriever: new Retriever(kb.index, kb.text, cal) };
  }

  mkdirSync(o.out, { recursive: true });
  const context = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    index: `${kb.index.meta.itemCount} items, ${kb.index.meta.chunkCount} chunks, ${kb.index.meta.embeddings}, checksum ${kb.index.meta.checksum.slice(0, 12)}`,
  };
  const baseline = new BaselineSearch(kb.index.chunks, kb.text);
  const all: Record<string, Metrics> = {};
  for (const file of files) {
    const name = path.basename(file, '.jsonl');
    const metrics = computeMetrics(await evaluate(kb, readDataset(file, ids), categories, baseline));
    all[name] = metrics;
    const md = markdownReport(name, metrics, context);
    writeFileSync(path.join(o.out, `${name}.md`), md);
    writeFileSync(path.join(o.out, `${name}.json`), `${JSON.stringify({ ...context, metrics }, null, 2)}\n`);
    console.log(md);
  }
  return 0;
}
