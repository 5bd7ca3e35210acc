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
    ['外地人能不能办', 'conditions'],
    ['办理流程是怎样的', 'process'],
    ['网上能办吗', 'online'],
    ['交管12123上可以换证吗', 'online'],
    ['身份证丢了', 'general'],
    ['How much is the fee', 'fees'],
  ])('%s → %s', (q, expected) => {
    expect(aspect(q)).toBe(expected);
  });

  it('strips aspect words for item retrieval but never to nothing', () => {
    expect(stripAspectWords('护照多少钱', lexicon.aspects)).toBe('护照');
    expect(stripAspectWords('多少钱', lexicon.aspects)).toBe('多少钱');
  });
});
