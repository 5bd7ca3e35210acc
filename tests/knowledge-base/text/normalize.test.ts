import { describe, expect, it } from 'vitest';
import { loadTextPipeline } from '../../../knowledge-base/text-pipeline.ts';
import { Normalizer } from '../../../knowledge-base/text/normalize.ts';
import { loadConfig } from '../../../bot/config.ts';

const { normalizer } = loadTextPipeline(loadConfig({}).lexiconDir);

describe('Normalizer', () => {
  it('converts traditional characters to simplified', () => {
    expect(normalizer.clean('身份證遺失要怎麼補辦')).toBe('身份证遗失要怎么补办');
    expect(normalizer.clean('駕駛執照')).toBe('驾驶执照');
  });

  it('turns full-width letters, digits and punctuation into half-width and lower case', () => {
    expect(normalizer.clean('ＩＤ　Ｃａｒｄ１２３？')).toBe('id card123?');
  });

  it('drops emoji and invisible characters but keeps the words', () => {
    expect(normalizer.clean('护照😭丢了\u200b！！')).toBe('护照 丢了!!');
  });

  it('rewrites colloquial service words to official terms', () => {
    expect(normalizer.normalize('驾照过期了')).toBe('驾驶证有效期满');
    expect(normalizer.normalize('户口本掉了')).toBe('居民户口簿遗失');
    expect(normalizer.normalize('电瓶车上牌')).toBe('电动自行车上牌');
    expect(normalizer.normalize('二手车过户')).toBe('二手车转移登记');
    expect(normalizer.normalize('车子年检')).toBe('车子检验');
    expect(normalizer.normalize('绿本抵押')).toBe('机动车登记证书抵押');
    expect(normalizer.normalize('上户口')).toBe('出生登记');
  });

  it('does not rewrite an official term a second time', () => {
    expect(normalizer.normalize('居民户口簿')).toBe('居民户口簿');
    expect(normalizer.normalize('临时居民身份证')).toBe('临时居民身份证');
  });

  it('prefers the longest colloquial match', () => {
    const n = new Normalizer([
      ['户口', '户籍'],
      ['户口本', '居民户口簿'],
    ]);
    expect(n.normalize('户口本')).toBe('居民户口簿');
    expect(n.normalize('户口')).toBe('户籍');
  });

  it('matches English terms only as whole words', () => {
    expect(normalizer.normalize('I lost my passport')).toBe('i 遗失 my 护照');
    expect(normalizer.normalize('coffee')).toBe('coffee');
  });
});

describe('pinyin input', () => {
  it('reads a run that is wholly pinyin of known words', () => {
    expect(normalizer.normalize('shenfenzheng diule zenmeban')).toBe('身份证遗失怎么办');
    expect(normalizer.normalize('jiazhao guoqi le')).toBe('驾驶证有效期满');
    expect(normalizer.normalize("hu'kou'ben")).toBe('居民户口簿');
  });

  it('leaves English and other Latin text alone', () => {
    expect(normalizer.normalize('how do i get a visa')).toBe('how do i get a 签证');
    expect(normalizer.normalize('Zhang Wei')).toBe('zhang wei');
  });
});
