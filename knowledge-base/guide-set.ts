/** Reads every guide file of a folder, in a stable order, with a checksum of the set. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isEnglishGuideFile, parseEnglishGuide, type EnglishGuide } from './english-guide.ts';
import { parseGuide, type Guide, type ParsedGuide, type Problem } from './guide.ts';

export interface GuideFile {
  file: string;
  text: string;
  parsed: ParsedGuide;
}

export interface EnglishGuideFile {
  file: string;
  text: string;
  parsed: { guide?: EnglishGuide; problems: Problem[] };
}

export interface GuideSet {
  dir: string;
  files: GuideFile[];
  guides: Guide[];
  /** The English versions (`<id>.en.md`) by item id. */
  english: Map<string, EnglishGuide>;
  englishFiles: EnglishGuideFile[];
  /** sha256 over every Chinese guide's name and content (what the index is built from). */
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
  const chinese = entries.filter((e) => !isEnglishGuideFile(path.basename(e.file)));
  const files = chinese.map(({ file, text }) => {
    hash.update(path.basename(file)).update('\0').update(text).update('\0');
    return { file, text, parsed: parseGuide(file, text) };
  });
  const englishFiles = entries.filter((e) => isEnglishGuideFile(path.basename(e.file))).map(({ file, text }) => ({ file, text, parsed: parseEnglishGuide(file, text) }));
  return {
    dir,
    files,
    guides: files.flatMap((f) => (f.parsed.guide ? [f.parsed.guide] : [])),
    // An English version that does not parse is left out: its item is answered in Chinese.
    english: new Map(englishFiles.flatMap((f) => (f.parsed.guide?.id && !f.parsed.problems.length ? [[f.parsed.guide.id, f.parsed.guide] as const] : []))),
    englishFiles,
    checksum: hash.digest('hex'),
  };
}

/** Every Chinese guide's own problems (parsing and format). */
export const fileProblems = (set: GuideSet): Problem[] => set.files.flatMap((f) => f.parsed.problems);
