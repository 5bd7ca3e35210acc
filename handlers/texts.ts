/** Citizen-facing wording, kept as data in texts.zh-CN.yaml; code only fills in {variables}. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

type Texts = Record<string, string | Record<string, string>>;
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'texts.zh-CN.yaml');
const texts = parse(readFileSync(file, 'utf8')) as Texts;

export function text(key: string, vars: Record<string, string | number> = {}): string {
  const [head, sub] = key.split('.');
  const v = sub ? (texts[head!] as Record<string, string> | undefined)?.[sub] : texts[head!];
  if (typeof v !== 'string') throw new Error(`no text "${key}" in ${file}`);
  return v.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}
