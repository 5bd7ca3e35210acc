/** Reads every guide file of a folder, in a stable order, with a checksum of the set. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseGuide, type Guide, type ParsedGuide } from './guide.ts';

export interface GuideFile {
  file: string;
  text: string;
  parsed: ParsedGuide;
}

export interface GuideSet {
  dir: string;
  files: GuideFile[];
  guides: Guide[];
  /** sha256 over every file name and content: changes whenever an editor changes a guide. */
  checksum: string;
}

export function readGuideSet(dir: string): GuideSet {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.md') && n.toLowerCase() !== 'readme.md').sort();
  } catch (e) {
    throw new Error(`cannot read the guides folder ${dir}: ${(e as Error).message}`);
  }
  return guideSetOf(dir, names.map((name) => ({ file: path.join(dir, name), text: readFileSync(path.join(dir, name), 'utf8') })));
}

/** A guide set of files held in memory (a draft's), named as if in `dir`. */
export function guideSetOf(dir: string, entries: Array<{ file: string; text: string }>): GuideSet {
  const hash = createHash('sha256');
  const files = entries.map(({ file, text }) => {
    hash.update(path.basename(file)).update('\0').update(text).update('\0');
    return { file, text, parsed: parseGuide(file, text) };
  });
  return {
    dir,
    files,
    guides: files.flatMap((f) => (f.parsed.guide ? [f.parsed.guide] : [])),
    checksum: hash.digest('hex'),
  };
}
