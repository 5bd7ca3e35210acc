/**
 * `npm run bench`: index build time (cold, no saved index) and per-question latency over
 * the eval questions once the index is loaded. Figures, not pass/fail.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Asker } from '../bot/ask.ts';
import type { Config } from '../bot/config.ts';
import { loadCatalogue } from '../knowledge-base/catalogue.ts';
import { openKnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import { readDataset } from './dataset.ts';
import { percentile } from './metrics.ts';
import { DATASETS_DIR } from './run-eval.ts';

export async function runBench(config: Config): Promise<void> {
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'xiaoan-bench-'));
  try {
    const builds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await openKnowledgeBase({ ...config, dataDir: path.join(tmp, String(i)) });
      builds.push(performance.now() - t);
    }
    const t = performance.now();
    const kb = await openKnowledgeBase({ ...config, dataDir: path.join(tmp, '0') });
    const reload = performance.now() - t;
    console.log(`index build (cold, 3 runs): ${builds.map((b) => `${b.toFixed(0)} ms`).join(', ')}; reload of a saved index: ${reload.toFixed(0)} ms`);

    const ids = new Set(loadCatalogue(config.cataloguePath).map((c) => c.id));
    const questions = readdirSync(DATASETS_DIR)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readDataset(path.join(DATASETS_DIR, f), ids).map((c) => c.q));
    const asker = new Asker(kb);
    for (const q of questions.slice(0, 50)) await asker.ask(q); // warm-up
    const lat: number[] = [];
    const started = performance.now();
    for (let round = 0; round < 3; round++) {
      for (const q of questions) {
        const s = performance.now();
        await asker.ask(q);
        lat.push(performance.now() - s);
      }
    }
    const total = performance.now() - started;
    console.log(
      `questions: ${lat.length} (${questions.length} × 3); p50 ${percentile(lat, 50).toFixed(2)} ms, p95 ${percentile(lat, 95).toFixed(2)} ms, ` +
        `p99 ${percentile(lat, 99).toFixed(2)} ms, ${(lat.length / (total / 1000)).toFixed(0)} questions/s on one core; ` +
        `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
