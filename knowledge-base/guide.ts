/**
 * A service guide (办事指南): one Markdown file with YAML front matter.
 * Parsing keeps line numbers so that validation can point editors at the exact line.
 */
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';

export const SECTION_NAMES = [
  '办理条件',
  '所需材料',
  '办理流程',
  '办理时限',
  '收费标准',
  '办理地点与渠道',
  '法律依据',
  '温馨提示',
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

export interface Situation {
  name: string;
  keywords: string[];
  materials: string[];
}

export interface Guide {
  id: string;
  name: string;
  category: string;
  department: string;
  aliases: string[];
  questions: string[];
  situations: Situation[];
  sections: Record<SectionName, string>;
  file: string;
}

export interface Problem {
  file: string;
  line: number;
  message: string;
  fix: string;
  /** The front-matter key or section the problem is in, for an editor's form; absent for the file. */
  field?: string;
}

export interface ParsedGuide {
  guide?: Guide;
  problems: Problem[];
  /** Line of each front-matter key and of each question, for later cross-file checks. */
  lines: { key: Record<string, number>; questions: number[]; sections: Record<string, number> };
}

/** A section's lines, one fact each, as quoted: blank lines dropped, indentation trimmed. */
export const sectionLines = (section: string): string[] => section.split('\n').map((l) => l.trim()).filter(Boolean);

/** A guide file's YAML front matter (group 1) between its two --- lines. */
export const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

export function parseGuide(file: string, text: string): ParsedGuide {
  const problems: Problem[] = [];
  const lines: ParsedGuide['lines'] = { key: {}, questions: [], sections: {} };
  const problem = (line: number, message: string, fix: string, field?: string) =>
    problems.push({ file, line, message, fix, ...(field ? { field } : {}) });

  const fm = FRONT_MATTER.exec(text);
  if (!fm) {
    problem(1, 'no YAML front matter', 'start the file with a line "---", the fields, and a closing "---"');
    return { problems, lines };
  }
  const yamlText = fm[1] ?? '';
  const counter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: counter, uniqueKeys: true });
  // Front matter starts on line 2 of the file.
  const lineOf = (node: Node | null | undefined) =>
    node?.range ? counter.linePos(node.range[0]).line + 1 : 2;
  for (const err of doc.errors) {
    const line = err.linePos?.[0]?.line ?? 1;
    problem(line + 1, `YAML error: ${err.message.split('\n')[0]}`, 'fix the YAML syntax (quote text containing ": " or starting with a special character)');
  }
  if (doc.errors.length) return { problems, lines };
  const root = doc.contents;
  if (!isMap(root)) {
    problem(2, 'front matter is not a mapping of fields', 'write fields as "key: value" lines');
    return { problems, lines };
  }
  const fields = new Map<string, Node>();
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    fields.set(key, pair.value as Node);
    lines.key[key] = lineOf(pair.key as Node);
  }

  const str = (key: string): string => {
    const node = fields.get(key);
    if (!node) {
      problem(2, `missing field "${key}"`, `add a line "${key}: …" to the front matter`, key);
      return '';
    }
    if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') {
      problem(lineOf(node), `field "${key}" must be non-empty text`, `write "${key}: <text>"`, key);
      return '';
    }
    return node.value.trim();
  };
  const strList = (node: Node | undefined, key: string, required: boolean, field = key): { values: string[]; lines: number[] } => {
    if (!node || (isScalar(node) && node.value === null)) {
      if (required) problem(lines.key[key] ?? 2, `missing list "${key}"`, `add "${key}:" followed by "  - …" lines (or "${key}: []")`, field);
      return { values: [], lines: [] };
    }
    if (!isSeq(node)) {
      problem(lineOf(node), `field "${key}" must be a list`, `write each entry on its own line as "  - …"`, field);
      return { values: [], lines: [] };
    }
    const values: string[] = [];
    const ls: number[] = [];
    for (const item of node.items as Node[]) {
      if (!isScalar(item) || (typeof item.value !== 'string' && typeof item.value !== 'number') || String(item.value).trim() === '') {
        problem(lineOf(item), `every entry of "${key}" must be non-empty text`, 'write the entry as plain text after "- "', field);
        continue;
      }
      values.push(String(item.value).trim());
      ls.push(lineOf(item));
    }
    return { values, lines: ls };
  };

  const id = str('id');
  const name = str('name');
  const category = str('category');
  const department = str('department');
  const aliases = strList(fields.get('aliases'), 'aliases', true).values;
  const q = strList(fields.get('questions'), 'questions', true);
  lines.questions = q.lines;

  const situations: Situation[] = [];
  const sitNode = fields.get('situations');
  if (sitNode && !(isScalar(sitNode) && sitNode.value === null)) {
    if (!isSeq(sitNode)) {
      problem(lineOf(sitNode), 'field "situations" must be a list', 'write "situations: []" or a list of entries with name, keywords and materials', 'situations');
    } else {
      for (const s of sitNode.items as Node[]) {
        if (!isMap(s)) {
          problem(lineOf(s), 'each situation must have name, keywords and materials', 'write "  - name: …" with "keywords:" and "materials:" under it', 'situations');
          continue;
        }
        const get = (k: string) => s.items.find((p) => isScalar(p.key) && p.key.value === k)?.value as Node | undefined;
        const nameNode = get('name');
        const sName = isScalar(nameNode) && typeof nameNode.value === 'string' ? nameNode.value.trim() : '';
        if (!sName) problem(lineOf(s), 'situation without a name', 'add "name: <short label>" to the situation', 'situations');
        const keywords = strList(get('keywords'), 'keywords', true, 'situations').values;
        const materials = strList(get('materials'), 'materials', true, 'situations').values;
        if (sName && materials.length === 0) problem(lineOf(s), `situation "${sName}" lists no materials`, 'add its full material list under "materials:"', 'situations');
        situations.push({ name: sName, keywords, materials });
      }
    }
  }
  for (const key of fields.keys()) {
    if (!['id', 'name', 'category', 'department', 'aliases', 'questions', 'situations'].includes(key)) {
      problem(lines.key[key] ?? 2, `unknown field "${key}"`, 'remove it, or check its spelling (id, name, category, department, aliases, questions, situations)', key);
    }
  }

  // Body sections.
  const bodyStartLine = text.slice(0, fm[0].length).split('\n').length;
  const body = text.slice(fm[0].length);
  const sections: Partial<Record<SectionName, string>> = {};
  const order: string[] = [];
  let current: { name: string; line: number; text: string[] } | null = null;
  const flush = () => {
    if (!current) return;
    const content = current.text.join('\n').trim();
    if ((SECTION_NAMES as readonly string[]).includes(current.name)) {
      if (sections[current.name as SectionName] !== undefined) {
        problem(current.line, `section "## ${current.name}" appears twice`, 'merge the two sections into one', current.name);
      }
      sections[current.name as SectionName] = content;
      if (!content) problem(current.line, `section "## ${current.name}" is empty`, 'write its content, or 以本市公布为准 where the figure is local', current.name);
    } else {
      problem(current.line, `unknown section "## ${current.name}"`, `use only: ${SECTION_NAMES.join('、')}`);
    }
    order.push(current.name);
  };
  body.split('\n').forEach((line, i) => {
    const h = /^##\s+(.+?)\s*$/.exec(line);
    if (h && !line.startsWith('###')) {
      flush();
      current = { name: h[1]!, line: bodyStartLine + i, text: [] };
      lines.sections[current.name] ??= current.line;
    } else if (current) {
      current.text.push(line);
    } else if (line.trim()) {
      problem(bodyStartLine + i, 'text before the first section', 'move it into one of the "## " sections');
    }
  });
  flush();
  const lastLine = text.split('\n').length;
  for (const s of SECTION_NAMES) {
    if (sections[s] === undefined) problem(lastLine, `missing section "## ${s}"`, `add a "## ${s}" section`, s);
  }
  const known = order.filter((n) => (SECTION_NAMES as readonly string[]).includes(n));
  const expected = SECTION_NAMES.filter((n) => known.includes(n));
  if (known.join() !== expected.join()) {
    problem(bodyStartLine, 'sections are out of order', `order them as: ${SECTION_NAMES.join('、')}`);
  }

  const guide: Guide = {
    id,
    name,
    category,
    department,
    aliases,
    questions: q.values,
    situations,
    sections: Object.fromEntries(SECTION_NAMES.map((s) => [s, sections[s] ?? ''])) as Record<SectionName, string>,
    file,
  };
  return { guide, problems, lines };
}
