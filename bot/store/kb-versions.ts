/** Which knowledge-base build is published: one current row, history kept. */
import type { IndexMeta } from '../../knowledge-base/knowledge-index.ts';
import type { Database } from './database.ts';

export interface KbVersion {
  id: number;
  checksum: string;
  guidesChecksum: string;
  embeddings: string;
  itemCount: number;
  chunkCount: number;
  buildMs: number;
  publishedBy: string;
  publishedAt: Date;
  isCurrent: boolean;
}

const COLUMNS = `id, checksum, guides_checksum AS "guidesChecksum", embeddings, item_count AS "itemCount",
  chunk_count AS "chunkCount", build_ms AS "buildMs", published_by AS "publishedBy",
  published_at AS "publishedAt", is_current AS "isCurrent"`;

export async function currentKbVersion(db: Database): Promise<KbVersion | null> {
  const { rows } = await db.query<KbVersion>(`SELECT ${COLUMNS} FROM kb_versions WHERE is_current`);
  return rows[0] ? { ...rows[0], id: Number(rows[0].id) } : null;
}

export async function listKbVersions(db: Database, limit = 20): Promise<KbVersion[]> {
  const { rows } = await db.query<KbVersion>(`SELECT ${COLUMNS} FROM kb_versions ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Makes this build the current one. Publishing the same checksum again is a no-op. */
export async function publishKbVersion(db: Database, meta: IndexMeta, by: string): Promise<{ version: KbVersion; changed: boolean }> {
  return db.transaction(async (tx) => {
    await tx.query('LOCK TABLE kb_versions IN EXCLUSIVE MODE');
    const { rows: cur } = await tx.query<KbVersion>(`SELECT ${COLUMNS} FROM kb_versions WHERE is_current`);
    if (cur[0] && cur[0].checksum === meta.checksum) return { version: { ...cur[0], id: Number(cur[0].id) }, changed: false };
    await tx.query('UPDATE kb_versions SET is_current = false WHERE is_current');
    const { rows } = await tx.query<KbVersion>(
      `INSERT INTO kb_versions (checksum, guides_checksum, embeddings, item_count, chunk_count, build_ms, published_by, is_current)
       VALUES ($1, $2, $3, $4, $5, $6, $7, true) RETURNING ${COLUMNS}`,
      [meta.checksum, meta.guidesChecksum, meta.embeddings, meta.itemCount, meta.chunkCount, meta.buildMs, by],
    );
    return { version: { ...rows[0]!, id: Number(rows[0]!.id) }, changed: true };
  });
}
