/** Phone answers say only what the guides say: for every item, aspect and 情形. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneSuggestion, situationQuestion } from '../../../bot/assist/suggestions.ts';
import { ASPECTS } from '../../../knowledge-base/lexicon.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';
import { removeDir, testConfig } from '../../helpers/kb.ts';

let kb: KnowledgeBase;
const config = testConfig();
beforeAll(async () => {
  kb = await openKnowledgeBase(config);
});
afterAll(() => removeDir(config.dataDir));

const LABEL = /^(?:地点|所需材料(?:（.*?）)?|收费|时限|条件|流程|网上办理)：/;

describe('phone answers', () => {
  it('quote every fact word for word from the item’s own guide, and name it', () => {
    let checked = 0;
    for (const guide of kb.index.guides.values()) {
      const source = readFileSync(guide.file, 'utf8');
      for (const aspect of [...ASPECTS, 'general' as const]) {
        for (const situation of [null, ...guide.situations]) {
          const s = phoneSuggestion(guide, aspect, situation);
          const sections = s.sources.map((x) => x.section);
          expect(s.text.endsWith(`（来源：《${guide.name}》办事指南·${sections.join('、')}）`)).toBe(true);
          expect(s.sources.every((x) => x.itemId === guide.id && guide.sections[x.section])).toBe(true);
          const body = s.text.slice(0, s.text.lastIndexOf('（来源：'));
          for (const piece of body.split(/[；。]/)) {
            const f = piece.replace(LABEL, '').replace(/等，共 \d+ 项$/, '').trim();
            if (f) expect(source, `${guide.id} ${aspect} ${situation?.name ?? ''}`).toContain(f);
          }
          // Short enough to read out.
          expect([...body].length, `${guide.id} ${aspect}`).toBeLessThan(300);
          expect(s.askCaller).toEqual(situation || !guide.situations.length ? [] : [situationQuestion(guide.situations)]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('leads with the fact asked for', () => {
    const g = kb.index.guides.get('sfz-04')!;
    expect(phoneSuggestion(g, 'fees', null).text).toMatch(/^丢失补领工本费每证 40 元/);
    expect(phoneSuggestion(g, 'time', null).text).toMatch(/^法定时限为自申请之日起 60 日内发证/);
    expect(phoneSuggestion(g, 'general', null).text).toMatch(/^地点：户籍所在地或本市任一户政办理窗口/);
    expect(situationQuestion(g.situations)).toBe('请问您是在户籍地补领，还是在非户籍地异地补领？');
  });
});

describe('a caller speaking English', () => {
  it('gets an English suggestion from the English guide, for staff to read out', async () => {
    const { suggest } = await import('../../../bot/assist/suggestions.ts');
    const { Asker } = await import('../../../bot/ask.ts');
    const out = await suggest({ kb, asker: new Asker(kb) }, 'How much does a passport cost?', {});
    expect(out.intent).toBe('answer');
    const s = out.suggestions[0]!;
    expect(s.text).toContain('120 yuan');
    expect(s.text).toContain('Source: service guide');
    expect(s.itemName).toMatch(/passport/i);
    expect(s.sources[0]!.section).toBe('收费标准');
  });
});
