/**
 * Releases and drafts of the knowledge in the store. A release is an immutable snapshot of
 * every guide and lexicon file, `guides/NAME.md` and `lexicon/NAME` → text, with its checksum,
 * author, approver, note and effective time; the release in force is the latest whose
 * effective time has come (a rollback is a new release restoring an earlier one's files).
 * A draft is an editor's working copy. Files stay a way to work: a release can be written
 * back to a folder (xiaoan kb export --format md) and a folder read into a draft
 * (xiaoan kb import).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, Queryable } from '../bot/store/database.ts';
import type { GateResult } from './review.ts';

/** Relative path (guides/…, lexicon/…) → file text. */
export type KbFiles = Record<string, string>;

export interface KbRelease {
  id: number;
  checksum: string;
  kind: 'seed' | 'release' | 'rollback';
  author: string;
  approver: string | null;
  note: string | null;
  restores: number | null;
  createdAt: string;
  effectiveAt: string;
  /** How many files, and (when asked for) the files themselves. */
  fileCount: number;
  files?: KbFiles;
}

export interface KbDraft {
  id: number;
  baseRelease: number | null;
  status: 'draft' | 'submitted' | 'approved' | 'published';
  author: string;
  note: string | null;
  createdAt: string;
  updatedAt: string;
  files: KbFiles;
  /** The regression gate's last run (review.ts GateResult), for the files of its checksum. */
  gate: GateResult | null;
  approver: string | null;
  overrideReason: string | null;
  releaseId: number | null;
}

const GUIDES = 'guides';
const LEXICON = 'lexicon';
const isGuide = (name: string) => name.endsWith('.md') && name.toLowerCase() !== 'readme.md';

/** The files of a guides folder and a lexicon folder, as a release holds them. */
export function readKbFiles(guidesDir: string, lexiconDir: string): KbFiles {
  const files: KbFiles = {};
  const read = (dir: string, prefix: string, keep: (name: string) => boolean) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw new Error(`cannot read ${dir}: ${(e as Error).message}`);
    }
    for (const name of names.sort()) {
      const file = path.join(dir, name);
      if (keep(name) && statSync(file).isFile()) files[`${prefix}/${name}`] = readFileSync(file, 'utf8');
    }
  };
  read(guidesDir, GUIDES, isGuide);
  read(lexiconDir, LEXICON, (n) => !n.startsWith('.'));
  if (!Object.keys(files).some((f) => f.startsWith(`${GUIDES}/`))) throw new Error(`no guide (*.md) in ${guidesDir}`);
  return files;
}

/** sha256 over every path and text, in path order: the same content, the same checksum. */
export function checksumOf(files: KbFiles): string {
  const hash = createHash('sha256');
  for (const p of Object.keys(files).sort()) hash.update(p).update('\0').update(files[p]!).update('\0');
  return hash.digest('hex');
}

/** Writes the files under dir (dir/guides/…, dir/lexicon/…); refuses a path that leaves dir. */
export function writeKbFiles(files: KbFiles, dir: string): void {
  const root = path.resolve(dir);
  for (const [rel, text] of Object.entries(files)) {
    const target = path.resolve(root, rel);
    if (!target.startsWith(`${root}${path.sep}`) || !/^(guides|lexicon)\/[^/\\]+$/.test(rel)) throw new Error(`refusing to write ${rel} outside ${root}`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}

interface ReleaseRow {
  id: string;
  checksum: string;
  kind: KbRelease['kind'];
  author: string;
  approver: string | null;
  note: string | null;
  restores: string | null;
  created_at: Date | string;
  effective_at: Date | string;
  file_count: number;
  files?: KbFiles;
}

const iso = (d: Date | string) => new Date(d).toISOString();
const toRelease = (r: ReleaseRow): KbRelease => ({
  id: Number(r.id),
  checksum: r.checksum,
  kind: r.kind,
  author: r.author,
  approver: r.approver,
  note: r.note,
  restores: r.restores === null ? null : Number(r.restores),
  createdAt: iso(r.created_at),
  effectiveAt: iso(r.effective_at),
  fileCount: Number(r.file_count),
  ...(r.files ? { files: r.files } : {}),
});
const RELEASE_COLUMNS = 'id, checksum, kind, author, approver, note, restores, created_at, effective_at, file_count';

/** The release in force at `at`: the latest whose effective time has come. */
export async function currentRelease(db: Queryable, o: { at?: Date; files?: boolean } = {}): Promise<KbRelease | null> {
  const { rows } = await db.query<ReleaseRow>(
    `SELECT ${RELEASE_COLUMNS}${o.files ? ', files' : ''} FROM kb_releases WHERE effective_at <= $1 ORDER BY effective_at DESC, id DESC LIMIT 1`,
    [(o.at ?? new Date()).toISOString()],
  );
  return rows[0] ? toRelease(rows[0]) : null;
}

export async function getRelease(db: Queryable, id: number, o: { files?: boolean } = {}): Promise<KbRelease | null> {
  const { rows } = await db.query<ReleaseRow>(`SELECT ${RELEASE_COLUMNS}${o.files ? ', files' : ''} FROM kb_releases WHERE id = $1`, [id]);
  return rows[0] ? toRelease(rows[0]) : null;
}

export async function listReleases(db: Queryable, limit = 50): Promise<KbRelease[]> {
  const { rows } = await db.query<ReleaseRow>(`SELECT ${RELEASE_COLUMNS} FROM kb_releases ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map(toRelease);
}

/**
 * The first release, from the files shipped in knowledge-base/ (at the first start). Does
 * nothing when a release exists: from then on the store holds the knowledge (given as a
 * function, the files are then not even read).
 */
export async function seedRelease(db: Database, files: KbFiles | (() => KbFiles), by = 'seed'): Promise<{ release: KbRelease; created: boolean }> {
  return db.transaction(async (tx) => {
    // One seeder at a time (two processes starting on one database).
    await tx.query('LOCK TABLE kb_releases IN SHARE ROW EXCLUSIVE MODE');
    const { rows } = await tx.query<ReleaseRow>(`SELECT ${RELEASE_COLUMNS} FROM kb_releases ORDER BY id LIMIT 1`);
    if (rows[0]) return { release: toRelease(rows[0]), created: false };
    const seed = typeof files === 'function' ? files() : files;
    const inserted = await tx.query<ReleaseRow>(
      `INSERT INTO kb_releases (checksum, files, file_count, kind, author, note) VALUES ($1, $2, $3, 'seed', $4, '由 knowledge-base/ 中的文件生成的首个版本') RETURNING ${RELEASE_COLUMNS}`,
      [checksumOf(seed), JSON.stringify(seed), Object.keys(seed).length, by],
    );
    return { release: toRelease(inserted.rows[0]!), created: true };
  });
}

/** A new draft from files (an import) on top of the release in force. */
export async function createDraft(db: Queryable, files: KbFiles, author: string, note?: string): Promise<KbDraft> {
  const base = await currentRelease(db);
  const { rows } = await db.query<{ id: string }>('INSERT INTO kb_drafts (base_release, files, author, note) VALUES ($1, $2, $3, $4) RETURNING id', [
    base?.id ?? null,
    JSON.stringify(files),
    author,
    note ?? null,
  ]);
  return (await getDraft(db, Number(rows[0]!.id)))!;
}

interface DraftRow {
  id: string;
  base_release: string | null;
  status: KbDraft['status'];
  author: string;
  note: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  files?: KbFiles;
  gate: KbDraft['gate'];
  approver: string | null;
  override_reason: string | null;
  release_id: string | null;
}
const num = (v: string | null) => (v === null ? null : Number(v));
const toDraft = (r: DraftRow): KbDraft => ({
  id: Number(r.id),
  baseRelease: num(r.base_release),
  status: r.status,
  author: r.author,
  note: r.note,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  files: r.files ?? {},
  gate: r.gate,
  approver: r.approver,
  overrideReason: r.override_reason,
  releaseId: num(r.release_id),
});
const DRAFT_COLUMNS = 'id, base_release, status, author, note, created_at, updated_at, gate, approver, override_reason, release_id';

export async function getDraft(db: Queryable, id: number): Promise<KbDraft | null> {
  const { rows } = await db.query<DraftRow>(`SELECT ${DRAFT_COLUMNS}, files FROM kb_drafts WHERE id = $1`, [id]);
  return rows[0] ? toDraft(rows[0]) : null;
}

/** Drafts, newest first, without their files. */
export async function listDrafts(db: Queryable, limit = 100): Promise<Array<Omit<KbDraft, 'files'>>> {
  const { rows } = await db.query<DraftRow>(`SELECT ${DRAFT_COLUMNS} FROM kb_drafts ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map((r) => {
    const { files: _f, ...d } = toDraft(r);
    return d;
  });
}

/** What a draft changes against a release: files added, changed and removed. */
export function fileChanges(from: KbFiles, to: KbFiles): { added: string[]; changed: string[]; removed: string[] } {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return {
    added: keys.filter((k) => !(k in from)),
    changed: keys.filter((k) => k in from && k in to && from[k] !== to[k]),
    removed: keys.filter((k) => !(k in to)),
  };
}

/**
 * Records a release: the files become the knowledge in force at `effectiveAt` (now by
 * default) in every process. The review workflow (draft → submitted → approved → published)
 * is what calls it for editors; a rollback is a release that restores an earlier one's files.
 */
export async function publishRelease(
  db: Queryable,
  files: KbFiles,
  o: { author: string; approver?: string; note?: string; effectiveAt?: Date; kind?: 'release' | 'rollback'; restores?: number },
): Promise<KbRelease> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO kb_releases (checksum, files, file_count, kind, author, approver, note, restores, effective_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [checksumOf(files), JSON.stringify(files), Object.keys(files).length, o.kind ?? 'release', o.author, o.approver ?? null, o.note ?? null, o.restores ?? null, (o.effectiveAt ?? new Date()).toISOString()],
  );
  return (await getRelease(db, Number(rows[0]!.id)))!;
}

/** Puts an earlier release's content back in force, as a new release that names it. */
export async function rollbackTo(db: Queryable, id: number, o: { by: string; note?: string }): Promise<KbRelease> {
  const earlier = await getRelease(db, id, { files: true });
  if (!earlier) throw new Error(`no release ${id}`);
  return publishRelease(db, earlier.files!, { author: o.by, approver: o.by, note: o.note ?? `回滚到版本 ${id}`, kind: 'rollback', restores: id });
}

/**
 * A draft of files read from a folder (xiaoan kb import) on the release in force; with
 * `keepLexicon` (the folder had no lexicon) the draft keeps the lexicon in force.
 */
export async function draftFromFiles(db: Queryable, files: KbFiles, o: { keepLexicon: boolean; by: string; note?: string }): Promise<{ draft: KbDraft; changes: ReturnType<typeof fileChanges> }> {
  const base = await currentRelease(db, { files: true });
  let own = files;
  if (o.keepLexicon && base?.files) {
    const guides = Object.entries(files).filter(([k]) => k.startsWith(`${GUIDES}/`));
    const lexicon = Object.entries(base.files).filter(([k]) => k.startsWith(`${LEXICON}/`));
    own = Object.fromEntries([...guides, ...lexicon]);
  }
  const draft = await createDraft(db, own, o.by, o.note);
  return { draft, changes: fileChanges(base?.files ?? {}, own) };
}
