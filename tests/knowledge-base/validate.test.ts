import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../bot/config.ts';
import { loadCatalogue } from '../../knowledge-base/catalogue.ts';
import { readGuideSet } from '../../knowledge-base/guide-set.ts';
import { loadTextPipeline } from '../../knowledge-base/text-pipeline.ts';
import { englishProblems, validateGuideSet } from '../../knowledge-base/validate.ts';
import { copyGuides, removeDir } from '../helpers/kb.ts';

const config = loadConfig({});
const catalogue = loadCatalogue(config.cataloguePath);
const { normalizer } = loadTextPipeline(config.lexiconDir);
const few = catalogue.filter((c) => ['sfz-04', 'sfz-06', 'crj-01'].includes(c.id));

describe('the shipped guide set', () => {
  it('covers all 121 catalogue items with no problem, the English versions in step', () => {
    const set = readGuideSet(config.guidesDir);
    const problems = validateGuideSet(set, catalogue, normalizer);
    expect(problems).toEqual([]);
    expect(englishProblems(set)).toEqual([]);
    // English for the items foreigners and travellers use, and the most asked.
    const foreign = catalogue.filter((c) => ['出入境', '外国人管理'].includes(c.category) || c.id === 'jsz-11').map((c) => c.id);
    expect(foreign.filter((id) => !set.english.has(id))).toEqual([]);
    expect(set.english.size).toBeGreaterThanOrEqual(foreign.length + 20);
    expect(set.guides).toHaveLength(121);
    expect(catalogue).toHaveLength(121);
    for (const g of set.guides) expect(g.questions.length).toBeGreaterThanOrEqual(8);
  });

  it('keeps the catalogue identical to the shared contract when it is present', () => {
    const shared = path.join(PROJECT_ROOT, '..', 'shared', 'catalogue', 'items.tsv');
    let text: string | null = null;
    try {
      text = readFileSync(shared, 'utf8');
    } catch {
      // Outside the workplace there is no shared/ folder; the copy is then the contract.
    }
    if (text !== null) expect(readFileSync(config.cataloguePath, 'utf8')).toBe(text);
  });

  it('states the national ID-card and passport fees right', () => {
    const set = readGuideSet(config.guidesDir);
    const fee = (id: string) => set.guides.find((g) => g.id === id)!.sections['收费标准'];
    expect(fee('sfz-01')).toMatch(/免费|免收|不收/);
    expect(fee('sfz-02')).toContain('20');
    expect(fee('sfz-03')).toContain('40');
    expect(fee('sfz-04')).toContain('40');
    expect(fee('sfz-06')).toContain('10');
    expect(fee('crj-01')).toContain('120');
  });
});

describe('validateGuideSet errors', () => {
  let dir = '';
  afterEach(() => removeDir(dir));

  const edit = (id: string, fn: (t: string) => string) => {
    const file = path.join(dir, `${id}.md`);
    writeFileSync(file, fn(readFileSync(file, 'utf8')));
  };
  const problems = () => validateGuideSet(readGuideSet(dir), few, normalizer);

  it('holds an English version to the Chinese guide it translates, line by line and figure by figure', () => {
    dir = copyGuides(['sfz-04', 'sfz-06', 'crj-01']);
    cpSync(path.join(config.guidesDir, 'crj-01.en.md'), path.join(dir, 'crj-01.en.md'));
    const set = readGuideSet(dir);
    expect(set.guides.map((g) => g.id).sort()).toEqual(['crj-01', 'sfz-04', 'sfz-06']);
    expect(set.english.get('crj-01')?.sections['收费标准']?.[0]).toContain('120');
    expect(englishProblems(set)).toEqual([]);
    const editEn = (fn: (t: string) => string) => {
      const file = path.join(dir, 'crj-01.en.md');
      writeFileSync(file, fn(readFileSync(file, 'utf8')));
    };
    // A fee the Chinese line does not state, a dropped line, an unknown heading.
    editEn((t) => t.replace(/(## Fees\n- [^\n]*?)120/, '$1150').replace(/(## Tips\n)- [^\n]*\n/, '$1').replace('## Process', '## Steps'));
    // Out of step, not broken: the Chinese guides stay valid, the English is reported.
    expect(problems()).toEqual([]);
    const found = englishProblems(readGuideSet(dir));
    expect(found.map((p) => p.field)).toEqual(expect.arrayContaining(['收费标准', '温馨提示', '办理流程']));
    expect(found.find((p) => p.field === '收费标准')!.message).toContain('150');
    expect(found.find((p) => p.field === '温馨提示')!.message).toMatch(/lines, the Chinese/);
    expect(found.some((p) => p.message.includes('unknown section "## Steps"'))).toBe(true);
    expect(found.every((p) => p.file.endsWith('crj-01.en.md'))).toBe(true);
  });

  it('passes a clean copy', () => {
    dir = copyGuides(['sfz-04', 'sfz-06', 'crj-01']);
    expect(problems()).toEqual([]);
  });

  it('names file, line and fix for a name that differs from the catalogue', () => {
    dir = copyGuides(['sfz-04', 'sfz-06', 'crj-01']);
    edit('sfz-04', (t) => t.replace('name: 居民身份证丢失补领', 'name: 身份证补办'));
    const [p] = problems();
    expect(p).toMatchObject({ file: path.join(dir, 'sfz-04.md'), line: 3 });
    expect(p!.message).toContain('differs from the catalogue');
    expect(p!.fix).toBe('write "name: 居民身份证丢失补领"');
  });

  it('reports a missing section, an empty one and the order', () => {
    dir = copyGuides(['sfz-04', 'sfz-06', 'crj-01']);
    edit('sfz-04', (t) => t.replace(/## 法律依据\n[\s\S]*?\n## 温馨提示/, '## 温馨提示').replace('## 办理时限\n', '## 办理时限\n\n## 收费标准x\n'));
    const msgs = problems().map((p) => p.message);
    expect(msgs).toContain('missing section "## 法律依据"');
    expect(msgs).toContain('section "## 办理时限" is empty');
    expect(msgs).toContain('unknown section "## 收费标准x"');
  });

  it('counts 相似问 and finds the same question under two items', () => {
    dir = copyGuides(['sfz-04', 'sfz-06', 'crj-01']);
    edit('sfz-06', (t) => t.replace(/questions:\n/, 'questions:\n  - 身份证掉了咋整\n'));
    edit('crj-01', (t) => t.replace(/questions:\n((  - .*\n)+)/, (_m, qs: string) => `questions:\n${qs.split('\n').slice(0, 3).join('\n')}\n`));
    const ps = problems();
    const dup = ps.find((p) => p.message.includes('duplicates'))!;
    expect(dup.file).toBe(path.join(dir, 'sfz-06.md'));
    expect(dup.message).toContain('under sfz-04');
    expect(ps.find((p) => p.file.endsWith('crj-01.md'))!.message).toMatch(/only 3 相似问 \(at least 8 needed\)/);
  });

  it('reports unknown ids, missing items, wrong types and broken YAML', () => {
    dir = copyGuides(['sfz-04', 'sfz-06', 'crj-01']);
    edit('crj-01', (t) => t.replace('id: crj-01', 'id: crj-99'));
    edit('sfz-06', (t) => t.replace(/aliases:\n/, 'aliases: 临时证\nx:\n'));
    const ps = problems();
    expect(ps.some((p) => p.message === 'unknown id "crj-99": not in the catalogue')).toBe(true);
    expect(ps.some((p) => p.message === 'no guide for catalogue item crj-01 普通护照首次申领')).toBe(true);
    expect(ps.some((p) => p.message.startsWith('YAML error') || p.message.includes('must be a list'))).toBe(true);

    edit('sfz-04', (t) => t.replace('category: 居民身份证', 'category: [居民身份证]'));
    expect(problems().some((p) => p.message === 'field "category" must be non-empty text' && p.line === 4)).toBe(true);
  });
});
