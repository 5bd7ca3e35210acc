/**
 * The accuracy floors: CI fails when retrieval or intent accuracy drops below what was
 * measured (eval/floors.json). Latency is reported, not asserted tightly: the p95 floor
 * is the product goal, far above what is measured, so a busy CI machine cannot flake it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bot/config.ts';
import { loadCatalogue } from '../../knowledge-base/catalogue.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { readDataset } from '../../eval/dataset.ts';
import { computeMetrics, type Metrics } from '../../eval/metrics.ts';
import { DATASETS_DIR, evaluate } from '../../eval/run-eval.ts';
import { removeDir, tempDir } from '../helpers/kb.ts';

type Floor = Partial<Record<keyof Metrics, number>>;
const floors = JSON.parse(readFileSync(path.join(DATASETS_DIR, '..', 'floors.json'), 'utf8')) as Record<string, Floor>;
const UPPER_BOUNDS = new Set(['falseEmergencies', 'latencyP95']);

describe('eval accuracy floors', () => {
  const config = loadConfig({});
  const catalogue = loadCatalogue(config.cataloguePath);
  let kb: KnowledgeBase;
  let dataDir = '';
  beforeAll(async () => {
    dataDir = tempDir();
    kb = await openKnowledgeBase({ ...config, dataDir });
  });
  afterAll(() => removeDir(dataDir));

  for (const [set, floor] of Object.entries(floors).filter(([k]) => !k.startsWith('_'))) {
    it(`${set}: stays at or above its floors`, async () => {
      const ids = new Set(catalogue.map((c) => c.id));
      const cases = readDataset(path.join(DATASETS_DIR, `${set}.jsonl`), ids);
      const m = computeMetrics(await evaluate(kb, cases, new Map(catalogue.map((c) => [c.id, c.category]))));
      const measured = Object.fromEntries(Object.keys(floor).map((k) => [k, m[k as keyof Metrics]]));
      for (const [k, v] of Object.entries(floor)) {
        const got = m[k as keyof Metrics] as number;
        if (UPPER_BOUNDS.has(k)) expect(got, `${set} ${k} (measured ${JSON.stringify(measured)})`).toBeLessThanOrEqual(v!);
        else expect(got, `${set} ${k} (measured ${JSON.stringify(measured)})`).toBeGreaterThanOrEqual(v!);
      }
    });
  }

  it('covers every catalogue item at least twice in the dev set, with no unknown ids', () => {
    const ids = new Set(catalogue.map((c) => c.id));
    const cases = readDataset(path.join(DATASETS_DIR, 'dev.jsonl'), ids);
    const per = new Map<string, number>();
    for (const c of cases) if (c.item) per.set(c.item, (per.get(c.item) ?? 0) + 1);
    expect(catalogue.filter((c) => (per.get(c.id) ?? 0) < 2).map((c) => c.id)).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(400);
  });
});
