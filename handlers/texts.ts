/** Citizen-facing wording, kept as data in texts.zh-CN.yaml; code only fills in {variables}. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

type Texts = Record<string, string | string[] | Record<string, string>>;
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'texts.zh-CN.yaml');
const texts = parse(readFileSync(file, 'utf8')) as Texts;

export function text(key: string, vars: Record<string, string | number> = {}): string {
  const [head, sub] = key.split('.');
  const v = sub ? (texts[head!] as Record<string, string> | undefined)?.[sub] : texts[head!];
  if (typeof v !== 'string') throw new Error(`no text "${key}" in ${file}`);
  return v.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** A list of texts (e.g. the welcome menu's questions). */
export function textList(key: string): string[] {
  const v = texts[key];
  if (!Array.isArray(v)) throw new Error(`no list "${key}" in ${file}`);
  return v;
}

/** A time as told to a citizen: "12月3日 14:00" in the bureau's time zone. */
export function citizenTime(at: string | Date, timeZone: string): string {
  return new Date(at).toLocaleString('zh-CN', { timeZone, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
