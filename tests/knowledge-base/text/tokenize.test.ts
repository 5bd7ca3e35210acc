import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../knowledge-base/text/tokenize.ts';
import { loadTextPipeline } from '../../../knowledge-base/text-pipeline.ts';
import { loadConfig } from '../../../bot/config.ts';

const { tokenizer } = loadTextPipeline(loadConfig({}).lexiconDir);

describe('Tokenizer', () => {
  it('keeps service terms from the user dictionary whole, with search pieces for recall', () => {
    const t = tokenizer.tokens('临时居民身份证怎么申领');
    expect(t).toContain('临时居民身份证');
    expect(t).toContain('身份证');
    expect(t).toContain('申领');
  });

  it('knows terms that the bundled dictionary splits', () => {
    expect(tokenizer.tokens('交管12123能办吗')).toContain('交管12123');
    expect(tokenizer.words('往来港澳通行证签注')).toContain('往来港澳通行证');
  });

  it('drops stop words and punctuation', () => {
    const t = tokenizer.tokens('请问，我的护照怎么办？');
    expect(t).toEqual(['护照']);
  });

  it('keeps a service term whole only because the user dictionary has it', () => {
    const plain = new Tokenizer('', new Set());
    expect(plain.words('电子驾驶证怎么申领')).not.toContain('电子驾驶证');
    expect(tokenizer.words('电子驾驶证怎么申领')).toContain('电子驾驶证');
  });
});
