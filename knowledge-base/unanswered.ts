/**
 * The unanswered loop: what citizens asked that 小安 could not answer well comes to the
 * editors as clusters of similar questions, ranked by how often they were asked. Sources:
 * questions out of scope or of low confidence (question_log), the last question before a
 * 转人工, the question a citizen answered 都不是 to, 差评 reasons, and hotline utterances with no reliable suggestion or one marked 无用. Per cluster an
 * editor adds the questions as 相似问 of an item (a draft, reviewed like any other) or
 * dismisses it; once a release is in force, the questions are asked again and the cluster
 * is marked fixed when they now reach the chosen item.
 */
import { parse, stringify } from 'yaml';
import type { Database, Queryable } from '../bot/store/database.ts';
import { Asker } from '../bot/ask.ts';
import { similarity } from '../integrations/case-platform/desk/desk.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import { createDraft, currentRelease, type KbDraft, type KbFiles, type KbRelease } from './releases.ts';
import { StatusError } from '../bot/status-error.ts';
import { FRONT_MATTER } from './guide.ts';

/** Below this confidence an answer is not one an editor can trust. */
export const LOW_CONFIDENCE = 0.35;
/** Similar enough to be the same question (character bigrams, as cases are compared). */
export const SAME_QUESTION = 0.5;
/** The share of a cluster's questions that must reach the item for it to count as fixed. */
export const FIXED_SHARE = 0.8;
const BATCH = 2000;

export type Source = 'question' | 'none_of_these' | 'handoff' | 'bad_rating' | 'hotline_unanswered' | 'hotline_useless';

export interface ClusterQuestion {
  text: string;
  count: number;
  sources: Source[];
}

export interface Cluster {
  id: number;
  label: string;
  status: 'open' | 'drafted' | 'dismissed' | 'fixed';
  questions: ClusterQuestion[];
  asked: number;
  itemId: string | null;
  draftId: number | null;
  fixedRelease: number | null;
  lastCheck: { release: number; reached: number; of: number } | null;
  note: string | null;
  handledBy: string | null;
  firstAt: string;
  lastAt: string;
}

export class UnansweredError extends StatusError {}

const key = (t: string) => t.replace(/[\s\p{P}\p{S}]/gu, '');

interface Row {
  id: string;
  label: string;
  status: Cluster['status'];
  questions: ClusterQuestion[];
  asked: number;
  item_id: string | null;
  draft_id: string | null;
  fixed_release: string | null;
  last_check: Cluster['lastCheck'];
  note: string | null;
  handled_by: string | null;
  first_at: Date | string;
  last_at: Date | string;
}
const toCluster = (r: Row): Cluster => ({
  id: Number(r.id),
  label: r.label,
  status: r.status,
  questions: r.questions,
  asked: r.asked,
  itemId: r.item_id,
  draftId: r.draft_id === null ? null : Number(r.draft_id),
  fixedRelease: r.fixed_release === null ? null : Number(r.fixed_release),
  lastCheck: r.last_check,
  note: r.note,
  handledBy: r.handled_by,
  firstAt: new Date(r.first_at).toISOString(),
  lastAt: new Date(r.last_at).toISOString(),
});

/** Gathers what was not collected yet into clusters; how many questions it added. */
export async function collectUnanswered(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    // One collector at a time across processes.
    await tx.query('LOCK TABLE unanswered_collected IN SHARE ROW EXCLUSIVE MODE');
    const fresh = (source: Source, sql: string, params: unknown[] = []) =>
      tx.query<{ ref: string; text: string | null; at: Date | string }>(
        `SELECT * FROM (${sql}) x WHERE text IS NOT NULL AND btrim(text) <> ''
           AND NOT EXISTS (SELECT 1 FROM unanswered_collected c WHERE c.source = '${source}' AND c.ref = x.ref::bigint)
         ORDER BY ref LIMIT ${BATCH}`,
        params,
      ).then((r) => r.rows.map((row) => ({ source, ref: Number(row.ref), text: row.text!.trim(), at: new Date(row.at) })));
    const found = [
      ...(await fresh(
        'question',
        `SELECT id AS ref, text, asked_at AS at FROM question_log
         WHERE channel <> 'cli' AND (intent = 'out_of_scope' OR (intent IN ('answer', 'clarify') AND confidence < $1))`,
        [LOW_CONFIDENCE],
      )),
      // 都不是 on a clarification menu: the citizen's question before it, in the same conversation.
      ...(await fresh(
        'none_of_these',
        `SELECT m.id AS ref, m.at,
                (SELECT q.text FROM messages q WHERE q.conversation_id = m.conversation_id AND q.direction = 'in' AND q.kind = 'text' AND q.id < m.id ORDER BY q.id DESC LIMIT 1) AS text
           FROM messages m WHERE m.direction = 'in' AND m.kind = 'menu' AND m.text = 'none'`,
      )),
      ...(await fresh('handoff', `SELECT id AS ref, summary -> 'lastQuestions' ->> -1 AS text, created_at AS at FROM handoffs WHERE kind = 'handoff'`)),
      ...(await fresh('bad_rating', `SELECT id AS ref, comment AS text, answered_at AS at FROM surveys WHERE rating IN ('不满意', '非常不满意')`)),
      ...(await fresh('hotline_unanswered', `SELECT id AS ref, text, at FROM assist_utterances WHERE unanswered`)),
      ...(await fresh('hotline_useless', `SELECT id AS ref, utterance AS text, at FROM assist_feedback WHERE verdict = 'useless'`)),
    ];
    if (!found.length) return 0;
    const open = (await tx.query<Row>("SELECT * FROM unanswered_clusters WHERE status = 'open'")).rows.map(toCluster);
    const changed = new Set<Cluster>();
    for (const f of found) {
      await tx.query('INSERT INTO unanswered_collected (source, ref) VALUES ($1, $2) ON CONFLICT DO NOTHING', [f.source, f.ref]);
      // 转人工 alone, or a rating without words, says nothing an editor can use.
      if ([...key(f.text)].length < 4) continue;
      let cluster = open.find((c) => c.questions.some((q) => key(q.text) === key(f.text) || similarity(q.text, f.text) >= SAME_QUESTION));
      if (!cluster) {
        cluster = { id: 0, label: f.text, status: 'open', questions: [], asked: 0, itemId: null, draftId: null, fixedRelease: null, lastCheck: null, note: null, handledBy: null, firstAt: f.at.toISOString(), lastAt: f.at.toISOString() };
        open.push(cluster);
      }
      const same = cluster.questions.find((q) => key(q.text) === key(f.text));
      if (same) {
        same.count++;
        if (!same.sources.includes(f.source)) same.sources.push(f.source);
      } else cluster.questions.push({ text: f.text, count: 1, sources: [f.source] });
      cluster.asked++;
      if (f.at.toISOString() > cluster.lastAt) cluster.lastAt = f.at.toISOString();
      if (f.at.toISOString() < cluster.firstAt) cluster.firstAt = f.at.toISOString();
      changed.add(cluster);
    }
    for (const c of changed) {
      c.questions.sort((a, b) => b.count - a.count);
      c.label = c.questions[0]!.text;
      const values = [c.label, JSON.stringify(c.questions), c.asked, c.firstAt, c.lastAt];
      if (c.id) await tx.query('UPDATE unanswered_clusters SET label = $2, questions = $3, asked = $4, first_at = $5, last_at = $6, updated_at = now() WHERE id = $1', [c.id, ...values]);
      else await tx.query('INSERT INTO unanswered_clusters (label, questions, asked, first_at, last_at) VALUES ($1, $2, $3, $4, $5)', values);
    }
    return found.length;
  });
}

export async function listClusters(db: Queryable, status?: Cluster['status']): Promise<Cluster[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM unanswered_clusters WHERE ($1::text IS NULL OR status = $1) ORDER BY (status = 'open') DESC, asked DESC, last_at DESC, id LIMIT 200`,
    [status ?? null],
  );
  return rows.map(toCluster);
}

async function clusterOf(db: Queryable, id: number): Promise<Cluster> {
  const { rows } = await db.query<Row>('SELECT * FROM unanswered_clusters WHERE id = $1', [id]);
  if (!rows[0]) throw new UnansweredError(`没有问题簇 ${id}`, 404);
  return toCluster(rows[0]);
}

/** The guide file with these questions added as 相似问 (those it or another guide has already left out). */
export function withQuestions(files: KbFiles, itemId: string, questions: string[]): { files: KbFiles; added: string[] } {
  const file = `guides/${itemId}.md`;
  const md = files[file];
  if (!md) throw new UnansweredError(`知识库中没有事项 ${itemId} 的指南`, 400);
  const m = FRONT_MATTER.exec(md);
  if (!m) throw new UnansweredError(`${file} 没有 front matter`, 400);
  const taken = new Set<string>();
  for (const text of Object.values(files)) {
    const fm = FRONT_MATTER.exec(text);
    if (fm) for (const q of ((parse(fm[1]!) as { questions?: string[] })?.questions ?? [])) taken.add(key(q));
  }
  const added = [...new Set(questions)].filter((q) => !taken.has(key(q)));
  const front = parse(m[1]!) as Record<string, unknown> & { questions?: string[] };
  front.questions = [...(front.questions ?? []), ...added];
  return { files: { ...files, [file]: `---\n${stringify(front, { lineWidth: 0 })}---\n${md.slice(m[0].length)}` }, added };
}

/** Adds a cluster's questions as 相似问 of an item: a draft of the release in force, for review. */
export async function linkCluster(db: Database, id: number, itemId: string, by: string): Promise<{ cluster: Cluster; draft: KbDraft; added: string[] }> {
  const c = await clusterOf(db, id);
  if (c.status !== 'open') throw new UnansweredError(`问题簇 ${id} 已处理（${c.status}）`, 409);
  const base = (await currentRelease(db, { files: true }))!;
  const { files, added } = withQuestions(base.files!, itemId, c.questions.map((q) => q.text));
  if (!added.length) throw new UnansweredError('这些问题都已是相似问，无需再加', 409);
  const draft = await createDraft(db, files, by, `未答问题：把“${c.label}”等 ${added.length} 个问题加为相似问`);
  await db.query("UPDATE unanswered_clusters SET status = 'drafted', item_id = $2, draft_id = $3, handled_by = $4, updated_at = now() WHERE id = $1", [id, itemId, draft.id, by]);
  return { cluster: await clusterOf(db, id), draft, added };
}

export async function dismissCluster(db: Database, id: number, by: string, note?: string): Promise<Cluster> {
  const c = await clusterOf(db, id);
  if (c.status !== 'open') throw new UnansweredError(`问题簇 ${id} 已处理（${c.status}）`, 409);
  await db.query("UPDATE unanswered_clusters SET status = 'dismissed', note = $2, handled_by = $3, updated_at = now() WHERE id = $1", [id, note ?? null, by]);
  return clusterOf(db, id);
}

/**
 * After a release comes into force: asks the questions of every drafted cluster whose draft
 * is published again, and marks fixed those that now reach their item.
 */
export async function checkFixed(db: Database, kb: KnowledgeBase, release: KbRelease): Promise<number> {
  const { rows } = await db.query<Row>(
    "SELECT c.* FROM unanswered_clusters c JOIN kb_drafts d ON d.id = c.draft_id WHERE c.status = 'drafted' AND d.status = 'published'",
  );
  const asker = new Asker(kb);
  let fixed = 0;
  for (const c of rows.map(toCluster)) {
    let reached = 0;
    for (const q of c.questions) {
      const r = await asker.ask(q.text);
      if (r.intent === 'answer' && r.item?.id === c.itemId) reached++;
    }
    const done = reached >= Math.ceil(c.questions.length * FIXED_SHARE);
    await db.query(`UPDATE unanswered_clusters SET last_check = $2, status = $3, fixed_release = $4, updated_at = now() WHERE id = $1`, [
      c.id,
      JSON.stringify({ release: release.id, reached, of: c.questions.length }),
      done ? 'fixed' : 'drafted',
      done ? release.id : null,
    ]);
    if (done) fixed++;
  }
  return fixed;
}
