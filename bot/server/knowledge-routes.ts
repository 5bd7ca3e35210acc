/**
 * The editors' API (知识库, role editor): the guides in force with how often each was asked
 * this month, releases, drafts and their review, rollback. Every change is audited.
 *
 *   GET  /api/staff/knowledge/guides                 guides of the release in force: hits this month, last change, open drafts
 *   GET  /api/staff/knowledge/releases               releases, newest first (the one in force marked)
 *   POST /api/staff/knowledge/releases/:id/rollback  {note?} put an earlier release's content back in force
 *   GET  /api/staff/knowledge/drafts                 drafts, newest first
 *   POST /api/staff/knowledge/drafts                 {note?, files?} a draft (of the release in force, with these files changed)
 *   GET  /api/staff/knowledge/drafts/:id             one draft: files, what it changes, gate result
 *   POST /api/staff/knowledge/drafts/:id             {files} change files of one's own draft (null removes a file)
 *   GET  /api/staff/knowledge/drafts/:id/guides/:itemId  one guide of a draft: text, fields, the published text, problems
 *   POST /api/staff/knowledge/drafts/:id/check       {itemId, text | fields} the guide's problems by field as it stands (nothing saved)
 *   POST /api/staff/knowledge/drafts/:id/preview     {text} the answer from the draft and from the release in force
 *   POST /api/staff/knowledge/import?itemId=      a .docx or .pdf service guide → the proposal, field by field, for review
 *   POST /api/staff/knowledge/import/draft        {proposal, note?} the reviewed proposal → a draft (validated)
 *   GET  /api/staff/knowledge/unanswered?status=     clusters of questions not answered well (collected first)
 *   POST /api/staff/knowledge/unanswered/:id/link    {itemId} its questions as 相似问 of the item: a draft
 *   POST /api/staff/knowledge/unanswered/:id/dismiss {note?}
 *   POST /api/staff/knowledge/drafts/:id/submit|gate|approve|publish
 *        approve: {overrideReason?}; publish: {effectiveAt?}
 */
import express, { Router, type Response } from 'express';
import type { Config } from '../config.ts';
import type { Database } from '../store/database.ts';
import type { LiveKnowledge } from '../../knowledge-base/live-knowledge.ts';
import { createDraft, currentRelease, fileChanges, getDraft, getRelease, listDrafts, listReleases, rollbackTo, type KbFiles } from '../../knowledge-base/releases.ts';
import { GuideProblemsError } from '../../knowledge-base/knowledge-base.ts';
import { StatusError } from '../status-error.ts';
import { DraftPreviewer } from '../../knowledge-base/preview.ts';
import { approveDraft, gateDraft, publishDraft, ReviewError, submitDraft, updateDraft, validateFiles } from '../../knowledge-base/review.ts';
import { documentText, guideMarkdown, parseServiceGuide, type GuideProposal } from '../../knowledge-base/import/service-guide.ts';
import { SECTION_NAMES } from '../../knowledge-base/guide.ts';
import { loadCatalogue } from '../../knowledge-base/catalogue.ts';
import { checkEnglish, checkGuide, guideChanges, guidePath, openDraftsByGuide } from '../../knowledge-base/editing.ts';
import { fieldsProblem, guideFields, guideText, type GuideFields } from '../../knowledge-base/guide-fields.ts';
import { collectUnanswered, dismissCluster, linkCluster, listClusters } from '../../knowledge-base/unanswered.ts';
import { auditOf, rolesOnly, staffOf, type StaffAuth } from './staff-routes.ts';

const FILE_PATH = /^(guides\/[\w.-]+\.md|lexicon\/[\w.-]+)$/;
const MAX_FILE_CHARS = 200_000;

/** {path: text | null} from a request body; throws a ReviewError naming what is wrong. */
function fileEdits(v: unknown): Record<string, string | null> {
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ReviewError('files 须为 {路径: 内容} 对象', 400);
  const out: Record<string, string | null> = {};
  for (const [p, text] of Object.entries(v)) {
    if (!FILE_PATH.test(p)) throw new ReviewError(`文件路径 ${p.slice(0, 80)} 无效：只能是 guides/名称.md 或 lexicon/名称`, 400);
    if (text !== null && (typeof text !== 'string' || text.length > MAX_FILE_CHARS)) throw new ReviewError(`${p} 的内容须为不超过 ${MAX_FILE_CHARS} 字的文本，或 null（删除）`, 400);
    out[p] = text as string | null;
  }
  return out;
}

const apply = (base: KbFiles, edits: Record<string, string | null>): KbFiles => {
  const files = { ...base };
  for (const [p, text] of Object.entries(edits)) {
    if (text === null) delete files[p];
    else files[p] = text;
  }
  return files;
};

export function knowledgeRoutes(db: Database, auth: StaffAuth, config: Config, live: LiveKnowledge): Router {
  const router = Router();
  const editors = rolesOnly('editor');
  const json = express.json({ limit: '2mb' });
  const me = (res: Response) => staffOf(res).username;
  const previewer = new DraftPreviewer(config, () => live.kb);
  // The bureau's 事项目录 is a file that changes with a deployment, not with a release: read once.
  let items: ReturnType<typeof loadCatalogue> | undefined;
  const catalogue = () => (items ??= loadCatalogue(config.cataloguePath));

  /** Runs a change; a refusal (StatusError) becomes its 4xx; audited either way. */
  const change = (action: string, run: (req: express.Request, res: Response) => Promise<{ body: unknown; target?: string; details?: Record<string, unknown> }>) =>
    async (req: express.Request, res: Response) => {
      const audit = auditOf(res);
      const target = req.params.id ? String(req.params.id) : undefined;
      try {
        const out = await run(req, res);
        await audit(action, { target: out.target ?? target, details: out.details });
        res.json(out.body);
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
        await audit(action, { target, outcome: 'failed', details: { error: e.message } });
        res.status(e.status).json({ error: e.message });
      }
    };
  const idOf = (req: express.Request) => {
    const v = String(req.params.id);
    if (!/^\d{1,12}$/.test(v)) throw new ReviewError('编号须为数字', 400);
    return Number(v);
  };

  /** The draft of :id, or a 404 sent. */
  const draftOr404 = async (req: express.Request, res: Response) => {
    const id = Number(req.params.id);
    const draft = Number.isSafeInteger(id) ? await getDraft(db, id) : null;
    if (!draft) res.status(404).json({ error: '没有这份草稿' });
    return draft;
  };

  router.get('/api/staff/knowledge/guides', auth, editors, async (_req, res) => {
    const since = new Date();
    since.setUTCDate(1);
    since.setUTCHours(0, 0, 0, 0);
    const { rows } = await db.query<{ item_id: string; n: string }>('SELECT item_id, count(*) AS n FROM question_log WHERE item_id IS NOT NULL AND asked_at >= $1 GROUP BY item_id', [since.toISOString()]);
    const hits = new Map(rows.map((r) => [r.item_id, Number(r.n)]));
    const release = live.release;
    const [changes, drafts] = await Promise.all([guideChanges(db, release.id), openDraftsByGuide(db)]);
    res.json({
      release: { id: release.id, checksum: release.checksum, effectiveAt: release.effectiveAt },
      guides: live.kb.set.guides.map((g) => {
        const open = drafts.get(guidePath(g.id)) ?? [];
        return {
          id: g.id,
          name: g.name,
          category: g.category,
          department: g.department,
          questions: g.questions.length,
          situations: g.situations.length,
          hitsThisMonth: hits.get(g.id) ?? 0,
          status: open.length ? 'draft' : 'published',
          drafts: open,
          lastChange: changes.get(guidePath(g.id)) ?? null,
        };
      }),
    });
  });

  router.get('/api/staff/knowledge/releases', auth, editors, async (_req, res) => {
    const inForce = await currentRelease(db);
    res.json({ releases: (await listReleases(db)).map((r) => ({ ...r, inForce: r.id === inForce?.id, served: r.id === live.release.id })) });
  });

  router.post(
    '/api/staff/knowledge/releases/:id/rollback',
    auth,
    editors,
    json,
    change('kb.rollback', async (req, res) => {
      const id = idOf(req);
      if (!(await getRelease(db, id))) throw new ReviewError(`没有版本 ${id}`, 404);
      const note = (req.body as { note?: unknown } | undefined)?.note;
      if (note !== undefined && typeof note !== 'string') throw new ReviewError('note 须为文本', 400);
      const release = await rollbackTo(db, id, { by: me(res), note: note || undefined });
      await live.check();
      return { body: release, target: String(release.id), details: { restores: id } };
    }),
  );

  router.get('/api/staff/knowledge/drafts', auth, editors, async (_req, res) => {
    const drafts = await listDrafts(db);
    res.json({ drafts: drafts.map(({ gate, ...d }) => ({ ...d, gateBlocked: gate ? gate.blocked : null })) });
  });

  router.post(
    '/api/staff/knowledge/drafts',
    auth,
    editors,
    json,
    change('kb.draft.create', async (req, res) => {
      const b = (req.body ?? {}) as { note?: unknown; files?: unknown };
      if (b.note !== undefined && typeof b.note !== 'string') throw new ReviewError('note 须为文本', 400);
      const base = (await currentRelease(db, { files: true }))!;
      const draft = await createDraft(db, apply(base.files!, fileEdits(b.files)), me(res), b.note as string | undefined);
      return { body: { ...draft, files: undefined, changes: fileChanges(base.files!, draft.files) }, target: String(draft.id) };
    }),
  );

  router.get('/api/staff/knowledge/drafts/:id', auth, editors, async (req, res) => {
    const draft = await draftOr404(req, res);
    if (!draft) return;
    const base = draft.baseRelease ? await getRelease(db, draft.baseRelease, { files: true }) : null;
    res.json({ ...draft, changes: fileChanges(base?.files ?? {}, draft.files) });
  });

  router.post(
    '/api/staff/knowledge/drafts/:id',
    auth,
    editors,
    json,
    change('kb.draft.update', async (req, res) => {
      const id = idOf(req);
      const draft = await getDraft(db, id);
      if (!draft) throw new ReviewError('没有这份草稿', 404);
      const edits = fileEdits((req.body as { files?: unknown } | undefined)?.files);
      if (!Object.keys(edits).length) throw new ReviewError('没有要修改的文件', 400);
      const updated = await updateDraft(db, id, apply(draft.files, edits), me(res));
      return { body: { ...updated, files: undefined }, details: { files: Object.keys(edits) } };
    }),
  );

  const KINDS: Record<string, 'docx' | 'pdf'> = {
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
    'application/pdf': 'pdf',
  };
  router.post(
    '/api/staff/knowledge/import',
    auth,
    editors,
    express.raw({ type: Object.keys(KINDS), limit: '10mb' }),
    change('kb.import', async (req) => {
      const kind = KINDS[(req.get('content-type') ?? '').split(';')[0]!.trim()];
      if (!kind || !Buffer.isBuffer(req.body) || !req.body.length) throw new ReviewError('请上传 Word（.docx）或 PDF 格式的办事指南', 400);
      const itemId = typeof req.query.itemId === 'string' ? req.query.itemId : '';
      const item = catalogue().find((c) => c.id === itemId);
      if (!item) throw new ReviewError(`请用 itemId 指明事项目录中的事项（没有 ${itemId.slice(0, 40) || '事项'}）`, 400);
      const text = await documentText(req.body, kind);
      if (!text.trim()) throw new ReviewError('文件里没有可读的文字（扫描件需先做文字识别）', 400);
      const proposal = parseServiceGuide(text, item, live.kb.index.guides.get(item.id));
      return { body: { kind, chars: text.length, proposal, markdown: guideMarkdown(proposal) }, target: item.id, details: { kind, bytes: req.body.length } };
    }),
  );

  router.post(
    '/api/staff/knowledge/import/draft',
    auth,
    editors,
    json,
    change('kb.import.draft', async (req, res) => {
      const b = (req.body ?? {}) as { proposal?: Partial<GuideProposal>; note?: unknown };
      const p = b.proposal;
      const list = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
      if (!p || typeof p.id !== 'string' || !p.sections || typeof p.sections !== 'object' || !list(p.aliases) || !list(p.questions) || !Array.isArray(p.situations)) {
        throw new ReviewError('proposal 须为导入结果（id、aliases、questions、situations、sections）', 400);
      }
      const item = catalogue().find((c) => c.id === p.id);
      if (!item) throw new ReviewError(`事项目录中没有 ${p.id}`, 400);
      for (const name of SECTION_NAMES) if (!list((p.sections as Record<string, unknown>)[name] ?? [])) throw new ReviewError(`sections.${name} 须为文本列表`, 400);
      const markdown = guideMarkdown({ ...(p as GuideProposal), id: item.id, name: item.name, category: item.category, department: item.department });
      const base = (await currentRelease(db, { files: true }))!;
      const files = { ...base.files!, [`guides/${item.id}.md`]: markdown };
      const problems = validateFiles(config, files);
      const draft = await createDraft(db, files, me(res), typeof b.note === 'string' && b.note ? b.note : `导入办事指南：${item.name}`);
      return { body: { draft: { ...draft, files: undefined }, changes: fileChanges(base.files!, files), problems }, target: String(draft.id), details: { itemId: item.id, problems: problems.length } };
    }),
  );

  router.get('/api/staff/knowledge/unanswered', auth, editors, async (req, res) => {
    const status = req.query.status;
    const allowed = ['open', 'drafted', 'dismissed', 'fixed'];
    if (status !== undefined && (typeof status !== 'string' || !allowed.includes(status))) return void res.status(400).json({ error: `status 只能是 ${allowed.join('、')}` });
    await collectUnanswered(db);
    res.json({ clusters: await listClusters(db, status as never) });
  });

  router.post(
    '/api/staff/knowledge/unanswered/:id/:action',
    auth,
    editors,
    json,
    async (req, res, next) => {
      const action = String(req.params.action);
      if (action !== 'link' && action !== 'dismiss') return void res.status(404).json({ error: `unknown action "${action}"` });
      return change(`kb.unanswered.${action}`, async (rq, rs) => {
        const id = idOf(rq);
        const b = (rq.body ?? {}) as { itemId?: unknown; note?: unknown };
        if (action === 'link') {
          if (typeof b.itemId !== 'string') throw new ReviewError('请用 itemId 指明要加相似问的事项', 400);
          const r = await linkCluster(db, id, b.itemId, me(rs));
          return { body: { cluster: r.cluster, draft: { ...r.draft, files: undefined }, added: r.added }, details: { itemId: b.itemId, draft: r.draft.id } };
        }
        if (b.note !== undefined && typeof b.note !== 'string') throw new ReviewError('note 须为文本', 400);
        return { body: await dismissCluster(db, id, me(rs), b.note as string | undefined) };
      })(req, res).catch(next);
    },
  );

  const problemsOf = (files: KbFiles, itemId: string, text: string) => checkGuide(files, itemId, text, catalogue(), live.kb.text.normalizer);
  const ITEM_ID = /^[\w.-]{1,64}$/;

  router.get('/api/staff/knowledge/drafts/:id/guides/:itemId', auth, editors, async (req, res) => {
    const itemId = String(req.params.itemId);
    if (!ITEM_ID.test(itemId)) return void res.status(400).json({ error: '事项编号无效' });
    const draft = await draftOr404(req, res);
    if (!draft) return;
    const file = guidePath(itemId);
    const published = (await currentRelease(db, { files: true }))?.files?.[file] ?? null;
    const text = draft.files[file] ?? null;
    if (text === null && published === null) return void res.status(404).json({ error: `草稿和已发布版本中都没有 ${itemId} 的指南` });
    const current = text ?? published!;
    res.json({ path: file, text: current, inDraft: text !== null, fields: guideFields(current, file), published, problems: problemsOf(draft.files, itemId, current), english: checkEnglish(draft.files, itemId, current) });
  });

  router.post('/api/staff/knowledge/drafts/:id/check', auth, editors, json, async (req, res) => {
    const b = (req.body ?? {}) as { itemId?: unknown; text?: unknown; fields?: unknown };
    if (typeof b.itemId !== 'string' || !ITEM_ID.test(b.itemId)) return void res.status(400).json({ error: '请用 itemId 指明事项' });
    let text: string;
    if (b.fields !== undefined) {
      const wrong = fieldsProblem(b.fields);
      if (wrong) return void res.status(400).json({ error: wrong });
      text = guideText(b.fields as GuideFields);
    } else if (typeof b.text === 'string' && b.text.length <= MAX_FILE_CHARS) {
      text = b.text;
    } else {
      return void res.status(400).json({ error: `请提供 text（不超过 ${MAX_FILE_CHARS} 字）或 fields` });
    }
    const draft = await draftOr404(req, res);
    if (!draft) return;
    res.json({ text, fields: guideFields(text, guidePath(b.itemId)), problems: problemsOf(draft.files, b.itemId, text), english: checkEnglish(draft.files, b.itemId, text) });
  });

  router.post('/api/staff/knowledge/drafts/:id/preview', auth, editors, json, async (req, res) => {
    const draft = await draftOr404(req, res);
    if (!draft) return;
    const text = (req.body as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string' || !text.trim() || text.length > 200) return void res.status(400).json({ error: '请输入要试问的问题（不超过 200 字）' });
    try {
      res.json(await previewer.ask(draft.files, text.trim()));
    } catch (e) {
      // A draft whose guides do not parse cannot be indexed: say so, as the validator would.
      if (e instanceof GuideProblemsError) return void res.status(409).json({ error: `草稿未通过校验，无法试问：${(e as Error).message}` });
      throw e;
    }
  });

  router.post(
    '/api/staff/knowledge/drafts/:id/:action',
    auth,
    editors,
    json,
    async (req, res, next) => {
      const action = String(req.params.action);
      if (!['submit', 'gate', 'approve', 'publish'].includes(action)) return void res.status(404).json({ error: `unknown action "${action}"` });
      return change(`kb.draft.${action}`, async (rq, rs) => {
        const id = idOf(rq);
        const b = (rq.body ?? {}) as { overrideReason?: unknown; effectiveAt?: unknown };
        if (action === 'submit') return { body: await submitDraft(db, id, me(rs)) };
        if (action === 'gate') {
          const gate = await gateDraft(config, db, id, live.kb);
          return { body: gate, details: { blocked: gate.blocked, delta: gate.top1.delta, changed: gate.changed.length } };
        }
        if (action === 'approve') {
          if (b.overrideReason !== undefined && typeof b.overrideReason !== 'string') throw new ReviewError('overrideReason 须为文本', 400);
          return { body: await approveDraft(db, id, me(rs), { overrideReason: b.overrideReason as string | undefined }), details: b.overrideReason ? { overrideReason: b.overrideReason } : undefined };
        }
        let effectiveAt: Date | undefined;
        if (b.effectiveAt !== undefined) {
          effectiveAt = typeof b.effectiveAt === 'string' ? new Date(b.effectiveAt) : new Date(NaN);
          if (Number.isNaN(effectiveAt.getTime())) throw new ReviewError('effectiveAt 须为 ISO 8601 时间', 400);
        }
        const release = await publishDraft(db, id, { effectiveAt });
        // In force now: this process switches at once; the others within their check interval.
        if (!effectiveAt || effectiveAt <= new Date()) await live.check();
        return { body: release, details: { release: release.id, effectiveAt: release.effectiveAt } };
      })(req, res).catch(next);
    },
  );

  return router;
}
