/**
 * A guide as the fields of an editor's form, and back: the front matter and each section's
 * Markdown body. guideText(guideFields(text)) keeps every field; only the front matter's
 * layout is rewritten (one canonical YAML form).
 */
import { Document, isMap, isSeq } from 'yaml';
import { parseGuide, SECTION_NAMES, type Guide, type SectionName } from './guide.ts';

export type GuideFields = Pick<Guide, 'id' | 'name' | 'category' | 'department' | 'aliases' | 'questions' | 'situations'> & { sections: Record<SectionName, string> };

/** The fields of a guide file, or null when its front matter does not parse. */
export function guideFields(text: string, file = 'guide.md'): GuideFields | null {
  const g = parseGuide(file, text).guide;
  if (!g) return null;
  const { file: _file, ...fields } = g;
  return fields;
}

/** The guide file of these fields, in the format of knowledge-base/guides/README.md. */
export function guideText(f: GuideFields): string {
  const doc = new Document({
    id: f.id,
    name: f.name,
    category: f.category,
    department: f.department,
    aliases: f.aliases,
    questions: f.questions,
    situations: f.situations.map((s) => ({ name: s.name, keywords: s.keywords, materials: s.materials })),
  });
  // 情形 keywords on one line, as the guides write them: an edit elsewhere leaves them unchanged.
  const situations = doc.get('situations', true);
  if (isSeq(situations)) {
    for (const s of situations.items) {
      const keywords = isMap(s) ? s.get('keywords', true) : null;
      if (isSeq(keywords)) keywords.flow = true;
    }
  }
  const fm = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  const body = SECTION_NAMES.map((s) => `## ${s}\n${(f.sections[s] ?? '').trim()}\n`).join('\n');
  return `---\n${fm}---\n\n${body}`;
}

/** Checks that a request body is GuideFields; the first thing wrong, or null. */
export function fieldsProblem(v: unknown): string | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'fields 须为对象';
  const f = v as Record<string, unknown>;
  const texts = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  for (const k of ['id', 'name', 'category', 'department']) if (typeof f[k] !== 'string') return `fields.${k} 须为文本`;
  for (const k of ['aliases', 'questions']) if (!texts(f[k])) return `fields.${k} 须为文本列表`;
  if (!Array.isArray(f.situations) || !f.situations.every((s) => s && typeof s === 'object' && typeof (s as { name?: unknown }).name === 'string' && texts((s as { keywords?: unknown }).keywords) && texts((s as { materials?: unknown }).materials))) {
    return 'fields.situations 须为 {name, keywords, materials} 列表';
  }
  const sections = f.sections as Record<string, unknown> | undefined;
  if (!sections || typeof sections !== 'object') return 'fields.sections 须为对象';
  for (const s of SECTION_NAMES) if (sections[s] !== undefined && typeof sections[s] !== 'string') return `fields.sections.${s} 须为文本`;
  return null;
}
