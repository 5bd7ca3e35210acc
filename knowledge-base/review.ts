/**
 * Review of a knowledge draft: draft → submitted → approved by another person (never the
 * author) → published (a release in force at its effective time). Before approval the
 * regression gate validates the draft and runs the labelled eval sets on its index and on
 * the release in force: a draft that breaks validation cannot be approved; one that lowers
 * top-1 by more than one point only with a reviewer's written reason, recorded.
 */
import { StatusError } from '../bot/status-error.ts';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../bot/config.ts';
import type { Database } from '../bot/store/database.ts';
import { DATASETS_DIR, evaluate } from '../eval/run-eval.ts';
import { readDataset } from '../eval/dataset.ts';
import { isItemIntent, top1Correct, type Outcome } from '../eval/metrics.ts';
import { loadCatalogue } from './catalogue.ts';
import { readGuideSet } from './guide-set.ts';
import { materialize, openRelease } from './live-knowledge.ts';
import { openKnowledgeBase, type KnowledgeBase } from './knowledge-base.ts';
import { loadTextPipeline } from './text-pipeline.ts';
import { formatProblem, validateGuideSet } from './validate.ts';
import { checksumOf, currentRelease, getDraft, publishRelease, type KbDraft, type KbFiles, type KbRelease } from './releases.ts';

/** Top-1 may fall by at most this many points before the gate blocks. */
export const GATE_MAX_DROP_POINTS = 1;

export class ReviewError extends StatusError {}

export interface GateResult {
  /** The draft content the gate ran on: a later edit needs another run. */
  checksum: string;
  ranAt: string;
  valid: boolean;
  problems: string[];
  /** Item questions of the labelled sets, top-1 in percent, on the release in force and on the draft. */
  top1: { questions: number; published: number; draft: number; delta: number };
  /** Every question whose top item changes. */
  changed: Array<{ set: string; q: string; expected: string | null; published: string | null; draft: string | null }>;
  blocked: boolean;
  reason: string | null;
}

const pct = (n: number, of: number) => (of ? Math.round((n / of) * 1000) / 10 : 0);

/** What `xiaoan kb validate` would say of these files: "guides/x.md:12: message\n    fix: …" each. */
export function validateFiles(config: Config, files: KbFiles, dirs = materialize(config, files)): string[] {
  const set = readGuideSet(dirs.guidesDir);
  const found = [...set.files.flatMap((f) => f.parsed.problems), ...validateGuideSet(set, loadCatalogue(config.cataloguePath), loadTextPipeline(dirs.lexiconDir).normalizer)];
  return [...new Set(found.map((p) => formatProblem(p, path.dirname(dirs.guidesDir))))];
}

/**
 * Validates the files and measures them against the release in force: `published` is that
 * release opened already (the server passes the one it serves); without it, it is opened.
 */
export async function runGate(config: Config, db: Database, files: KbFiles, published?: KnowledgeBase): Promise<GateResult> {
  const dirs = materialize(config, files);
  const problems = validateFiles(config, files, dirs);
  const catalogue = loadCatalogue(config.cataloguePath);
  // A draft that does not validate is not indexed: it cannot be published anyway.
  const draftKb = problems.length ? null : await openKnowledgeBase({ ...config, ...dirs });
  const ids = new Set(catalogue.map((c) => c.id));
  const categories = new Map(catalogue.map((c) => [c.id, c.category]));
  const liveKb = published ?? (await openRelease(config, (await currentRelease(db, { files: true }))!));
  const sets = readdirSync(DATASETS_DIR).filter((f) => f.endsWith('.jsonl')).sort();
  let questions = 0;
  let before = 0;
  let after = 0;
  const changed: GateResult['changed'] = [];
  for (const name of sets) {
    const cases = readDataset(path.join(DATASETS_DIR, name), ids).filter((c) => c.intent === 'answer');
    const a: Outcome[] = await evaluate(liveKb, cases, categories);
    const b: Outcome[] = draftKb ? await evaluate(draftKb, cases, categories) : [];
    questions += cases.length;
    before += a.filter(top1Correct).length;
    after += b.filter(top1Correct).length;
    b.forEach((o, i) => {
      const was = a[i]!;
      const top = (x: Outcome) => (isItemIntent(x.r.intent) ? (x.r.candidates[0]?.id ?? null) : null);
      if (top(o) !== top(was)) changed.push({ set: name, q: o.c.q, expected: o.c.item, published: top(was), draft: top(o) });
    });
  }
  const top1 = { questions, published: pct(before, questions), draft: problems.length ? 0 : pct(after, questions), delta: 0 };
  top1.delta = Math.round((top1.draft - top1.published) * 10) / 10;
  const reason = problems.length
    ? `校验未通过（${problems.length} 处问题）`
    : top1.delta < -GATE_MAX_DROP_POINTS
      ? `首位命中率下降 ${-top1.delta} 个百分点，超过 ${GATE_MAX_DROP_POINTS} 个百分点`
      : null;
  return { checksum: checksumOf(files), ranAt: new Date().toISOString(), valid: !problems.length, problems, top1, changed, blocked: reason !== null, reason };
}

async function draftOf(db: Database, id: number): Promise<KbDraft> {
  const d = await getDraft(db, id);
  if (!d) throw new ReviewError(`没有草稿 ${id}`, 404);
  return d;
}

/** Replaces a draft's files (while it is a draft); any earlier gate run no longer counts. */
export async function updateDraft(db: Database, id: number, files: KbFiles, by: string): Promise<KbDraft> {
  const d = await draftOf(db, id);
  if (d.status !== 'draft') throw new ReviewError(`草稿 ${id} 已${d.status === 'submitted' ? '提交审核' : '结束'}，不能再修改`, 409);
  if (d.author !== by) throw new ReviewError('只有作者可以修改草稿', 403);
  await db.query('UPDATE kb_drafts SET files = $2, gate = NULL, updated_at = now() WHERE id = $1', [id, JSON.stringify(files)]);
  return (await getDraft(db, id))!;
}

export async function submitDraft(db: Database, id: number, by: string): Promise<KbDraft> {
  const d = await draftOf(db, id);
  if (d.author !== by) throw new ReviewError('只有作者可以提交审核', 403);
  if (d.status !== 'draft') throw new ReviewError(`草稿 ${id} 的状态是 ${d.status}，不能提交`, 409);
  await db.query("UPDATE kb_drafts SET status = 'submitted', submitted_at = now(), updated_at = now() WHERE id = $1", [id]);
  return (await getDraft(db, id))!;
}

/** Runs the gate on a submitted draft and keeps the result with it. */
export async function gateDraft(config: Config, db: Database, id: number, published?: KnowledgeBase): Promise<GateResult> {
  const d = await draftOf(db, id);
  if (d.status !== 'submitted') throw new ReviewError('只有已提交审核的草稿才运行回归检查', 409);
  const gate = await runGate(config, db, d.files, published);
  await db.query('UPDATE kb_drafts SET gate = $2 WHERE id = $1', [id, JSON.stringify(gate)]);
  return gate;
}

/**
 * Approves a submitted draft: by someone other than its author, after a gate run on its
 * current files; a draft the gate blocked for a regression needs a written reason; one that
 * fails validation cannot be approved at all.
 */
export async function approveDraft(db: Database, id: number, by: string, o: { overrideReason?: string } = {}): Promise<KbDraft> {
  const d = await draftOf(db, id);
  if (d.status !== 'submitted') throw new ReviewError(`草稿 ${id} 的状态是 ${d.status}，不能审核通过`, 409);
  if (d.author === by) throw new ReviewError('不能审核自己编写的草稿，请由另一位编辑审核', 403);
  if (!d.gate || d.gate.checksum !== checksumOf(d.files)) throw new ReviewError('请先运行回归检查', 409);
  if (!d.gate.valid) throw new ReviewError(`校验未通过，不能发布：${d.gate.problems[0] ?? ''}`, 409);
  const reason = o.overrideReason?.trim();
  if (d.gate.blocked && !reason) throw new ReviewError(`回归检查未通过（${d.gate.reason}）；如确需发布，请填写理由`, 409);
  await db.query("UPDATE kb_drafts SET status = 'approved', approver = $2, approved_at = now(), override_reason = $3, updated_at = now() WHERE id = $1", [
    id,
    by,
    d.gate.blocked ? reason : null,
  ]);
  return (await getDraft(db, id))!;
}

/** Publishes an approved draft as a release, in force now or at `effectiveAt`. */
export async function publishDraft(db: Database, id: number, o: { effectiveAt?: Date } = {}): Promise<KbRelease> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ status: string; author: string; approver: string | null; note: string | null; files: KbFiles; override_reason: string | null }>(
      'SELECT status, author, approver, note, files, override_reason FROM kb_drafts WHERE id = $1 FOR UPDATE',
      [id],
    );
    const d = rows[0];
    if (!d) throw new ReviewError(`没有草稿 ${id}`, 404);
    if (d.status !== 'approved') throw new ReviewError(`草稿 ${id} 尚未审核通过，不能发布`, 409);
    const note = [d.note, d.override_reason ? `（审核人说明：${d.override_reason}）` : null].filter(Boolean).join(' ') || null;
    const release = await publishRelease(tx, d.files, { author: d.author, approver: d.approver!, note: note ?? undefined, effectiveAt: o.effectiveAt });
    await tx.query("UPDATE kb_drafts SET status = 'published', release_id = $2, updated_at = now() WHERE id = $1", [id, release.id]);
    return release;
  });
}
