/** Reply templates per category (reply-templates.yaml): editors change the file, not the code. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { sourceFile } from '../../../bot/paths.ts';

export interface ReplyTemplate {
  title: string;
  text: string;
}

export const REPLY_TEMPLATES_FILE = sourceFile(import.meta.url, 'reply-templates.yaml');
/** Offered for every category, after the category's own. */
export const COMMON = '通用';

export function loadReplyTemplates(file = REPLY_TEMPLATES_FILE): Record<string, ReplyTemplate[]> {
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out: Record<string, ReplyTemplate[]> = {};
  for (const [category, list] of Object.entries(raw ?? {})) {
    if (!Array.isArray(list)) throw new Error(`${file}: ${category} must be a list of {title, text}`);
    out[category] = list.map((t: unknown, i) => {
      const x = t as Partial<ReplyTemplate>;
      if (typeof x?.title !== 'string' || typeof x.text !== 'string' || !x.title.trim() || !x.text.trim()) throw new Error(`${file}: ${category}[${i}] needs a title and a text`);
      return { title: x.title.trim(), text: x.text.trim() };
    });
  }
  return out;
}
