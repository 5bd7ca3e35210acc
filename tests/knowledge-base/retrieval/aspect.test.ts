import { describe, expect, it } from 'vitest';
import { detectAspect, stripAspectWords } from '../../../knowledge-base/retrieval/aspect.ts';
import { loadTextPipeline } from '../../../knowledge-base/text-pipeline.ts';
import { loadConfig } from '../../../bot/config.ts';

const { lexicon, normalizer } = loadTextPipeline(loadConfig({}).lexiconDir);
const aspect = (q: string) => detectAspect(normalizer.normalize(q), lexicon.aspects);

describe('detectAspect', () => {
  it.each([
    ['补身份证要带什么', 'materials'],
    ['需要准备哪些材料', 'materials'],
    ['换驾照多少钱', 'fees'],
    ['护照收费吗', 'fees'],
    ['多久能拿到', 'time'],
    ['几个工作日办好', 'time'],
    ['在哪里办居住证', 'place'],
    ['办证窗口地址', 'place'],
    ['什么条件可以落户', 'conditions'],
    ['外地人能不能办', 'eligibility'],
    // The question types that a line anywhere in the guide answers.
    ['护照有效期是几年', 'validity'],
    ['驾照到期前多久可以换', 'deadline'],
    ['老人去世多久之内要销户', 'deadline'],
    ['办完多久能拿到', 'time'],
    ['身份证能让家里人代领吗', 'proxy'],
    ['必须本人去吗', 'proxy'],
    ['驾照过期了会怎么样', 'consequence'],
    ['年检超期没去会罚款吗', 'consequence'],
    ['违章罚款怎么交', 'general'],
    ['换驾照要体检吗', 'exam'],
    ['科目一考什么', 'exam'],
    ['明天要坐飞机身份证丢了', 'urgent'],
    ['护照能加急吗', 'urgent'],
    ['身份证过期了怎么办', 'general'],
    ['办理流程是怎样的', 'process'],
    ['网上能办吗', 'online'],
    ['交管12123上可以换证吗', 'online'],
    ['身份证丢了', 'general'],
    ['How much is the fee', 'fees'],
  ])('%s → %s', (q, expected) => {
    expect(aspect(q)).toBe(expected);
  });

  it('strips aspect words for item retrieval but never to nothing, nor the words that also name an item', () => {
    expect(stripAspectWords('护照多少钱', lexicon.aspects)).toBe('护照');
    expect(stripAspectWords(normalizer.normalize('换驾照的体检去哪做'), lexicon.aspects)).toContain('体检');
    expect(stripAspectWords('多少钱', lexicon.aspects)).toBe('多少钱');
  });
});

describe('the lexicon of an older release', () => {
  it('opens with one section per aspect and no where-to-check file (releases made before the question types)', async () => {
    const { cpSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { loadLexicon } = await import('../../../knowledge-base/lexicon.ts');
    const { tempDir, removeDir } = await import('../../helpers/kb.ts');
    const dir = tempDir();
    try {
      cpSync(loadConfig({}).lexiconDir, dir, { recursive: true });
      rmSync(path.join(dir, 'where-to-check.yaml'));
      const aspects = path.join(dir, 'aspects.yaml');
      writeFileSync(aspects, readFileSync(aspects, 'utf8').replace(/^ {2}sections: \[([^,\]]+)[^\]]*\]$/gm, '  section: $1'));
      const old = loadLexicon(dir);
      expect(old.aspects.find((a) => a.key === 'fees')!.sections).toEqual(['收费标准']);
      expect(old.whereToCheck).toEqual({});
    } finally {
      removeDir(dir);
    }
  });
});
