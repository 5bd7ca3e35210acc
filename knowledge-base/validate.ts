/**
 * `xiaoan kb validate`: the guide set against the catalogue and the format rules.
 * Every problem names the file, the line and the fix.
 */
import path from 'node:path';
import type { CatalogueItem } from './catalogue.ts';
import type { Problem } from './guide.ts';
import type { GuideSet } from './guide-set.ts';
import { alignmentProblems } from './english-guide.ts';
import type { Normalizer } from './text/normalize.ts';

export const MIN_QUESTIONS = 8;

export function validateGuideSet(set: GuideSet, catalogue: CatalogueItem[], normalizer: Normalizer): Problem[] {
  const problems: Problem[] = [];
  const byId = new Map(catalogue.map((c) => [c.id, c]));
  const seenIds = new Map<string, string>();
  const seenQuestions = new Map<string, { file: string; line: number; id: string }>();

  for (const f of set.files) {
    problems.push(...f.parsed.problems);
    const g = f.parsed.guide;
    if (!g) continue;
    const line = (key: string) => f.parsed.lines.key[key] ?? 2;
    const p = (l: number, message: string, fix: string, field: string) => problems.push({ file: f.file, line: l, message, fix, field });
    if (!g.id) continue;

    const expectedName = `${g.id}.md`;
    if (path.basename(f.file) !== expectedName) {
      p(line('id'), `file name does not match id "${g.id}"`, `rename the file to ${expectedName}`, 'id');
    }
    const cat = byId.get(g.id);
    if (!cat) {
      p(line('id'), `unknown id "${g.id}": not in the catalogue`, 'use an id from knowledge-base/catalogue.tsv, or remove this file', 'id');
    } else {
      for (const key of ['name', 'category', 'department'] as const) {
        if (g[key] && g[key] !== cat[key]) {
          p(line(key), `${key} "${g[key]}" differs from the catalogue`, `write "${key}: ${cat[key]}"`, key);
        }
      }
    }
    const other = seenIds.get(g.id);
    if (other) p(line('id'), `id "${g.id}" is also used by ${other}`, 'each item has exactly one guide: merge or remove one', 'id');
    seenIds.set(g.id, f.file);

    if (g.questions.length < MIN_QUESTIONS) {
      p(line('questions'), `only ${g.questions.length} 相似问 (at least ${MIN_QUESTIONS} needed)`, `add ${MIN_QUESTIONS - g.questions.length} more questions as citizens would type them`, 'questions');
    }
    g.questions.forEach((q, i) => {
      const key = normalizer.normalize(q).replace(/[\s\p{P}]/gu, '');
      const ql = f.parsed.lines.questions[i] ?? line('questions');
      const prev = seenQuestions.get(key);
      if (prev) {
        const where = prev.id === g.id ? 'earlier in this file' : `under ${prev.id} (${prev.file}:${prev.line})`;
        p(ql, `相似问 "${q}" duplicates one ${where}`, prev.id === g.id ? 'remove the repeat' : 'keep it under the one item it belongs to, and reword or remove the other', 'questions');
      } else {
        seenQuestions.set(key, { file: f.file, line: ql, id: g.id });
      }
    });
    const situationNames = new Set<string>();
    for (const s of g.situations) {
      if (situationNames.has(s.name)) p(line('situations'), `情形 "${s.name}" appears twice`, 'give each 情形 its own name', 'situations');
      situationNames.add(s.name);
    }
  }

  // A file of the item's name that does not parse is reported already, with its line.
  const present = new Set(set.files.filter((f) => !f.parsed.guide).map((f) => path.basename(f.file)));
  for (const c of catalogue) {
    if (!seenIds.has(c.id) && !present.has(`${c.id}.md`)) {
      problems.push({
        file: path.join(set.dir, `${c.id}.md`),
        line: 1,
        message: `no guide for catalogue item ${c.id} ${c.name}`,
        fix: `create ${c.id}.md (see knowledge-base/guides/README.md for the format)`,
      });
    }
  }
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/**
 * What is out of step in the English versions: a file that does not parse, a name or id
 * that fits no guide, a section whose lines no longer match the Chinese, a figure the Chinese
 * line does not state. These do not block a release: 小安 answers such a line (or item) in
 * Chinese, marked so, until the English is brought in step.
 */
export function englishProblems(set: GuideSet): Problem[] {
  const problems: Problem[] = [];
  const chinese = new Map(set.guides.map((g) => [g.id, g]));
  for (const f of set.englishFiles) {
    problems.push(...f.parsed.problems);
    const en = f.parsed.guide;
    if (!en?.id) continue;
    if (path.basename(f.file) !== `${en.id}.en.md`) problems.push({ file: f.file, line: 2, message: `file name does not match id "${en.id}"`, fix: `rename the file to ${en.id}.en.md`, field: 'id' });
    const zh = chinese.get(en.id);
    if (!zh) problems.push({ file: f.file, line: 2, message: `no Chinese guide ${en.id}.md for this English version`, fix: 'use the id of a guide in this folder, or remove the file', field: 'id' });
    else problems.push(...alignmentProblems(en, zh));
  }

  return problems;
}

export function formatProblem(p: Problem, cwd = process.cwd()): string {
  return `${path.relative(cwd, p.file)}:${p.line}: ${p.message}\n    fix: ${p.fix}`;
}
