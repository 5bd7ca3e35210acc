/**
 * A guide's English version (`<id>.en.md` beside `<id>.md`), for foreigners and travellers.
 * It is line-aligned with the Chinese guide: line k of a section translates line k of the
 * same Chinese section, so 小安 can give the English of exactly the lines it chose, and an
 * editor's check can hold every figure of a line to the Chinese line it translates.
 */
import { parse } from 'yaml';
import { FRONT_MATTER, SECTION_NAMES, sectionLines, type Guide, type Problem, type SectionName } from './guide.ts';

/** The English headings, in the order of the Chinese sections. */
export const ENGLISH_SECTIONS: Record<SectionName, string> = {
  办理条件: 'Conditions',
  所需材料: 'Materials',
  办理流程: 'Process',
  办理时限: 'Time limit',
  收费标准: 'Fees',
  办理地点与渠道: 'Where and how',
  法律依据: 'Legal basis',
  温馨提示: 'Tips',
};
/** Sections an English version may leave out (the Chinese is then shown, marked as such). */
const OPTIONAL: SectionName[] = ['法律依据'];

export interface EnglishGuide {
  id: string;
  name: string;
  /** Each Chinese 情形 (by its Chinese name) in English, materials aligned. */
  situations: Array<{ zh: string; name: string; materials: string[] }>;
  /** The lines of each section present, aligned with the Chinese section's lines. */
  sections: Partial<Record<SectionName, string[]>>;
  file: string;
}

export const isEnglishGuideFile = (name: string) => name.toLowerCase().endsWith('.en.md');

export function parseEnglishGuide(file: string, text: string): { guide?: EnglishGuide; problems: Problem[] } {
  const problems: Problem[] = [];
  const problem = (line: number, message: string, fix: string, field?: string) => problems.push({ file, line, message, fix, ...(field ? { field } : {}) });
  const fm = FRONT_MATTER.exec(text);
  if (!fm) {
    problem(1, 'no YAML front matter', 'start the file with "---", the fields id and name, and a closing "---"');
    return { problems };
  }
  let meta: Record<string, unknown>;
  try {
    meta = (parse(fm[1] ?? '') ?? {}) as Record<string, unknown>;
  } catch (e) {
    problem(2, `YAML error: ${(e as Error).message.split('\n')[0]}`, 'fix the YAML syntax');
    return { problems };
  }
  const str = (k: string) => (typeof meta[k] === 'string' && (meta[k] as string).trim() ? (meta[k] as string).trim() : '');
  const id = str('id');
  const name = str('name');
  if (!id) problem(2, 'missing field "id"', 'add "id: <the catalogue id>"', 'id');
  if (!name) problem(2, 'missing field "name"', 'add "name: <the item in English>"', 'name');
  for (const k of Object.keys(meta)) if (!['id', 'name', 'situations'].includes(k)) problem(2, `unknown field "${k}"`, 'use only id, name and situations', k);
  const situations: EnglishGuide['situations'] = [];
  if (meta.situations !== undefined && meta.situations !== null) {
    if (!Array.isArray(meta.situations)) problem(2, 'field "situations" must be a list', 'write "  - zh: …" entries with name and materials', 'situations');
    else
      for (const s of meta.situations as Array<Record<string, unknown>>) {
        const ok = s && typeof s.zh === 'string' && typeof s.name === 'string' && Array.isArray(s.materials);
        if (!ok) {
          problem(2, 'each situation needs zh, name and materials', 'write "  - zh: <Chinese 情形 name>" with "name:" and "materials:" under it', 'situations');
          continue;
        }
        situations.push({ zh: String(s.zh).trim(), name: String(s.name).trim(), materials: (s.materials as unknown[]).map((m) => String(m).trim()) });
      }
  }

  const byHeading = new Map(Object.entries(ENGLISH_SECTIONS).map(([zh, en]) => [en, zh as SectionName]));
  const sections: EnglishGuide['sections'] = {};
  const order: SectionName[] = [];
  const firstLine = text.slice(0, fm[0].length).split('\n').length;
  let current: { section: SectionName; lines: string[] } | null = null;
  const flush = () => {
    if (current) sections[current.section] = sectionLines(current.lines.join('\n'));
  };
  text
    .slice(fm[0].length)
    .split('\n')
    .forEach((line, i) => {
      const h = /^##\s+(.+?)\s*$/.exec(line);
      if (h) {
        flush();
        const section = byHeading.get(h[1]!);
        if (!section) {
          current = null;
          problem(firstLine + i, `unknown section "## ${h[1]}"`, `use only: ${Object.values(ENGLISH_SECTIONS).join(', ')}`);
          return;
        }
        if (sections[section]) problem(firstLine + i, `section "## ${h[1]}" appears twice`, 'merge the two sections', section);
        current = { section, lines: [] };
        order.push(section);
      } else if (current) current.lines.push(line);
    });
  flush();
  for (const s of SECTION_NAMES) {
    if (!sections[s] && !OPTIONAL.includes(s)) problem(text.split('\n').length, `missing section "## ${ENGLISH_SECTIONS[s]}"`, `add a "## ${ENGLISH_SECTIONS[s]}" section`, s);
  }
  if (order.join() !== SECTION_NAMES.filter((s) => order.includes(s)).join()) problem(firstLine, 'sections are out of order', `order them as: ${Object.values(ENGLISH_SECTIONS).join(', ')}`);
  return { guide: { id, name, situations, sections, file }, problems };
}

/** Digit strings of a line: a figure in the English must be one the Chinese line states. */
export const figures = (s: string): string[] => s.normalize('NFKC').match(/\d+(?:\.\d+)?/g) ?? [];

/** How the English version differs in shape or figures from the Chinese guide it translates. */
export function alignmentProblems(en: EnglishGuide, zh: Guide): Problem[] {
  const problems: Problem[] = [];
  const p = (message: string, fix: string, field: string) => problems.push({ file: en.file, line: 1, message, fix, field });
  for (const s of SECTION_NAMES) {
    const lines = en.sections[s];
    if (!lines) continue;
    const chinese = sectionLines(zh.sections[s]);
    if (lines.length !== chinese.length) {
      p(`"## ${ENGLISH_SECTIONS[s]}" has ${lines.length} lines, the Chinese "## ${s}" has ${chinese.length}`, 'translate the Chinese section line by line: one English line per Chinese line, in order', s);
      continue;
    }
    lines.forEach((line, i) => {
      const known = new Set(figures(chinese[i]!));
      const extra = figures(line).filter((f) => !known.has(f));
      if (extra.length) p(`"## ${ENGLISH_SECTIONS[s]}" line ${i + 1} states ${extra.join(', ')}, which its Chinese line does not`, `keep to the figures of: ${chinese[i]}`, s);
    });
  }
  const zhNames = zh.situations.map((x) => x.name);
  if (en.situations.length || zh.situations.length) {
    if (en.situations.map((x) => x.zh).join('\0') !== zhNames.join('\0')) {
      p(`situations (${en.situations.map((x) => x.zh).join(', ') || 'none'}) do not match the Chinese 情形 (${zhNames.join('、') || 'none'})`, 'list every Chinese 情形 once, in order, by its exact Chinese name under "zh:"', 'situations');
    } else {
      en.situations.forEach((x, i) => {
        if (x.materials.length !== zh.situations[i]!.materials.length) p(`situation "${x.zh}" has ${x.materials.length} materials, the Chinese ${zh.situations[i]!.materials.length}`, 'translate the materials one by one, in order', 'situations');
      });
    }
  }
  return problems;
}
