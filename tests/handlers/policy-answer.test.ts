/**
 * Policy answers quote only their guide: for every item, question type and 情形, each line
 * of an answer is a line of that guide (or of its English version), the fact-bearing line
 * comes first, and an overview stays short.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeAnswer } from '../../handlers/policy-answer.ts';
import { inLanguage } from '../../handlers/texts.ts';
import { chooseUnits } from '../../knowledge-base/answer-units.ts';
import { ASPECTS } from '../../knowledge-base/lexicon.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { removeDir, testConfig } from '../helpers/kb.ts';

let kb: KnowledgeBase;
const config = testConfig();
beforeAll(async () => {
  kb = await openKnowledgeBase(config);
});
afterAll(() => removeDir(config.dataDir));

const flat = (s: string) => s.replace(/\s+/g, '');
/** The body of an answer: its lines without the header, the labels, the source and the notes. */
function bodyLines(answer: string): string[] {
  return answer
    .split('\n')
    .filter((l) => !/^(【.*】|来源：|Source:|所需材料因情形不同|The materials depend|（原文为中文）|\(原文为中文|指南里没有专门提到|The guide does not mention|本市的具体规定：|For the city's own rules)/.test(l) && !/办事指南里没有写到|says nothing about this|指南里没有直接写到|does not say this directly/.test(l))
    .map((l) => l.replace(/^(可以。|不可以。|Yes\. |No\. )/, '').replace(/^[-*]\s*/, '').replace(/^[^：:]{1,30}[：:]\s*/, '').replace(/[。.]$/, '').replace(/等$|…$/, ''))
    .filter((l) => l.length > 1);
}

describe('policy answers', () => {
  it('quote every line from the item’s own guide, for every question type and 情形', () => {
    const rules = kb.text.lexicon.aspects;
    let checked = 0;
    for (const guide of kb.index.guides.values()) {
      const source = flat(readFileSync(guide.file, 'utf8'));
      const queries = ['', kb.text.normalizer.normalize(guide.questions[0]!)];
      for (const aspect of [...ASPECTS, 'general' as const]) {
        for (const situation of [null, ...guide.situations]) {
          for (const query of queries) {
            const a = composeAnswer(guide, { aspect, rules, situation, query, text: kb.text });
            expect(a.text).toContain(`《${guide.name}》办事指南`);
            for (const line of bodyLines(a.text)) {
              // The overview cuts a long line at a clause; every piece is still the guide's.
              for (const piece of line.split(/[、；：]/).filter((p) => p.length > 1)) expect(source, `${guide.id} ${aspect} ${query}: ${piece}`).toContain(flat(piece).replace(/等$/, '').replace(/（[^）]*$/, ''));
            }
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(121 * 15 * 2);
  });

  it('keeps an overview to what to bring, the cost, the time and where, in about 200 characters', () => {
    for (const guide of kb.index.guides.values()) {
      const a = composeAnswer(guide, { aspect: 'general', rules: kb.text.lexicon.aspects, situation: null, text: kb.text });
      const body = a.text.slice(0, a.text.lastIndexOf('\n来源'));
      expect([...body].length, guide.id).toBeLessThanOrEqual(230);
      expect(body, guide.id).toMatch(/所需材料：[\s\S]*收费：[\s\S]*时限：[\s\S]*地点：/);
    }
  });

  it('says where to check whatever the guide leaves to the city', () => {
    const rules = kb.text.lexicon.aspects;
    const fees = composeAnswer(kb.index.guides.get('crj-01')!, { aspect: 'fees', rules, situation: null, query: '护照 多少钱', text: kb.text });
    expect(fees.text).toContain('以本市公布为准');
    expect(fees.text).toContain(`本市的具体规定：${kb.text.lexicon.whereToCheck['出入境']!.zh}`);
    // Nothing left to the city, nothing added.
    const id = composeAnswer(kb.index.guides.get('sfz-04')!, { aspect: 'fees', rules, situation: null, query: '身份证 补办 多少钱', text: kb.text });
    expect(id.text).toContain('40 元');
    expect(id.text.includes('以本市')).toBe(id.text.includes('本市的具体规定'));
  });

  it('chooses the line that holds the fact, wherever it is in the guide', () => {
    const rule = (k: string) => kb.text.lexicon.aspects.find((r) => r.key === k)!;
    const choose = (id: string, aspect: string, q: string) => chooseUnits(kb.index.guides.get(id)!, rule(aspect), kb.text.normalizer.normalize(q), kb.text).units;
    // The citizen's own deadline (办理条件), not the office's processing time (办理时限).
    const deadline = choose('jsz-02', 'deadline', '驾驶证到期前多久可以去换');
    expect(deadline[0]!.text).toContain('90日');
    expect(deadline.every((u) => u.section !== '办理时限' || !u.text.includes('1日'))).toBe(true);
    // A validity period kept in 温馨提示.
    expect(choose('crj-01', 'validity', '护照有效期是几年')[0]).toMatchObject({ section: '温馨提示' });
    expect(choose('crj-01', 'validity', '护照有效期是几年')[0]!.text).toContain('10年');
    // A proxy: the line that says who may come instead.
    expect(choose('sfz-10', 'proxy', '身份证能让家里人代领吗').map((u) => u.text).join()).toMatch(/代领/);
  });

  it('answers in English from the English version, and marks Chinese that stands in', () => {
    const rules = kb.text.lexicon.aspects;
    const passport = kb.index.guides.get('crj-01')!;
    const english = kb.set.english.get('crj-01')!;
    const fees = inLanguage('en', () => composeAnswer(passport, { aspect: 'fees', rules, situation: null, query: '护照 多少钱', text: kb.text, english }));
    expect(fees.text).toContain('120 yuan');
    expect(fees.text).toContain(`Source: service guide "${english.name}"`);
    expect(fees.text).not.toMatch(/\p{Script=Han}{4}/u);
    // An item with no English version: its Chinese lines, said to be Chinese.
    const other = [...kb.index.guides.values()].find((g) => !kb.set.english.has(g.id))!;
    const zh = inLanguage('en', () => composeAnswer(other, { aspect: 'fees', rules, situation: null, query: '', text: kb.text }));
    expect(zh.text).toContain('原文为中文');
    // An English line whose figure the Chinese no longer states is not used.
    const stale = { ...english, sections: { ...english.sections, 收费标准: english.sections['收费标准']!.map((l) => l.replace('120', '150')) } };
    const safe = inLanguage('en', () => composeAnswer(passport, { aspect: 'fees', rules, situation: null, query: '护照 多少钱', text: kb.text, english: stale }));
    expect(safe.text).not.toContain('150');
    expect(safe.text).toContain('120元');
  });
});
