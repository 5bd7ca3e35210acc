/**
 * What the guide editor needs beside the drafts: one guide of a draft checked as the editor
 * types (the whole draft validated with it, problems named by field), the release that last
 * changed each guide, and the open drafts that change it.
 */
import type { Queryable } from '../bot/store/database.ts';
import type { CatalogueItem } from './catalogue.ts';
import type { Problem } from './guide.ts';
import { guideSetOf } from './guide-set.ts';
import type { Normalizer } from './text/normalize.ts';
import type { KbFiles } from './releases.ts';
import { englishProblems, validateGuideSet } from './validate.ts';

export const guidePath = (itemId: string) => `guides/${itemId}.md`;

export type FieldProblem = Pick<Problem, 'line' | 'message' | 'fix'> & { field: string | null };

/** The English version kept beside a guide (guides/<id>.en.md), and what is out of step in it. */
export interface EnglishCheck {
  present: boolean;
  /** Warnings, not problems: they never block a release (the Chinese is answered, marked so). */
  warnings: Array<Pick<Problem, 'line' | 'message' | 'fix'>>;
}

export const englishPath = (itemId: string) => `guides/${itemId}.en.md`;

/** The draft's English version of a guide checked against the guide as it stands with this text. */
export function checkEnglish(files: KbFiles, itemId: string, text: string): EnglishCheck {
  const file = englishPath(itemId);
  const english = files[file];
  if (english === undefined) return { present: false, warnings: [] };
  const set = guideSetOf('guides', [
    { file: guidePath(itemId), text },
    { file, text: english },
  ]);
  return { present: true, warnings: englishProblems(set).map((p) => ({ line: p.line, message: p.message, fix: p.fix })) };
}

/**
 * The problems of one guide when it stands in the draft with this text: its own and those
 * against the rest of the draft (a 相似问 another item already has, the catalogue's names).
 */
export function checkGuide(files: KbFiles, itemId: string, text: string, catalogue: CatalogueItem[], normalizer: Normalizer): FieldProblem[] {
  const file = guidePath(itemId);
  // This guide read last: a 相似问 it shares with another item is then reported as its own.
  const entries = Object.entries(files)
    .filter(([p]) => p.startsWith('guides/') && p.endsWith('.md') && p !== file)
    .map(([p, t]) => ({ file: p, text: t }))
    .concat({ file, text });
  const seen = new Set<string>();
  return validateGuideSet(guideSetOf('guides', entries), catalogue, normalizer)
    .filter((p) => p.file === file)
    .filter((p) => {
      const key = `${p.line}\0${p.message}`;
      return !seen.has(key) && !!seen.add(key);
    })
    .map((p) => ({ field: p.field ?? null, line: p.line, message: p.message, fix: p.fix }));
}

export interface GuideChange {
  releaseId: number;
  at: string;
  author: string;
}

const lastChanges = new Map<number, Map<string, GuideChange>>();

/**
 * The release in force up to `releaseId` that last changed each guide (seeded, edited,
 * rolled back). Releases never change, so the answer is kept per release in force.
 */
export async function guideChanges(db: Queryable, releaseId: number): Promise<Map<string, GuideChange>> {
  const kept = lastChanges.get(releaseId);
  if (kept) return kept;
  const { rows } = await db.query<{ key: string; id: string; author: string; effective_at: Date | string }>(
    `WITH f AS (
       SELECT r.id, r.author, r.effective_at, e.key, md5(e.value #>> '{}') AS h,
              lag(md5(e.value #>> '{}')) OVER (PARTITION BY e.key ORDER BY r.effective_at, r.id) AS prev
         FROM kb_releases r, jsonb_each(r.files) e
        WHERE r.id <= $1 AND r.effective_at <= (SELECT effective_at FROM kb_releases WHERE id = $1) AND e.key LIKE 'guides/%'
     )
     SELECT DISTINCT ON (key) key, id, author, effective_at FROM f
      WHERE prev IS DISTINCT FROM h ORDER BY key, effective_at DESC, id DESC`,
    [releaseId],
  );
  const changes = new Map(rows.map((r) => [r.key, { releaseId: Number(r.id), at: new Date(r.effective_at).toISOString(), author: r.author }]));
  lastChanges.set(releaseId, changes);
  return changes;
}

export interface OpenDraft {
  id: number;
  status: string;
  author: string;
}

/** Drafts not yet published, by the guide files they add, change or remove. */
export async function openDraftsByGuide(db: Queryable): Promise<Map<string, OpenDraft[]>> {
  const { rows } = await db.query<{ key: string; id: string; status: string; author: string }>(
    `SELECT k.key, d.id, d.status, d.author
       FROM kb_drafts d LEFT JOIN kb_releases r ON r.id = d.base_release,
            LATERAL (SELECT key FROM jsonb_object_keys(d.files) key
                     UNION SELECT key FROM jsonb_object_keys(coalesce(r.files, '{}'::jsonb)) key) k
      WHERE d.status <> 'published' AND k.key LIKE 'guides/%'
        AND (d.files -> k.key) IS DISTINCT FROM (r.files -> k.key)
      ORDER BY d.id`,
  );
  const out = new Map<string, OpenDraft[]>();
  for (const r of rows) {
    const list = out.get(r.key) ?? [];
    list.push({ id: Number(r.id), status: r.status, author: r.author });
    out.set(r.key, list);
  }
  return out;
}
