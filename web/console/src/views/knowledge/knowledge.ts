/**
 * What the 知识库 pages share: the editors' API (bot/server/knowledge-routes.ts) and its
 * shapes, the Chinese names of states, kinds and origins, the pages' paths, a raw-body upload
 * for the import (api() sends JSON only), the guide form's conversions, and line diffs.
 */
import { diffLines } from 'diff';
import { ApiError, api } from '../../api.ts';
import { session } from '../../session.ts';

export type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info';

export const SECTION_NAMES = ['办理条件', '所需材料', '办理流程', '办理时限', '收费标准', '办理地点与渠道', '法律依据', '温馨提示'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

export interface Situation { name: string; keywords: string[]; materials: string[] }

export interface GuideRow {
  id: string; name: string; category: string; questions: number; situations: number; hitsThisMonth: number;
  status?: 'published' | 'draft';
  drafts?: Array<{ id: number; status: string; author: string }>;
  lastChange?: { releaseId: number; at: string; author: string } | null;
}
export interface GuideList { release: { id: number; checksum: string; effectiveAt: string }; guides: GuideRow[] }

export interface Release {
  id: number; checksum: string; kind: 'seed' | 'release' | 'rollback'; author: string; approver: string | null; note: string | null;
  restores: number | null; createdAt: string; effectiveAt: string; fileCount: number; inForce: boolean; served: boolean;
}

export type DraftStatus = 'draft' | 'submitted' | 'approved' | 'published';

export interface GateResult {
  checksum: string; ranAt: string; valid: boolean; problems: string[];
  top1: { questions: number; published: number; draft: number; delta: number };
  changed: Array<{ set: string; q: string; expected: string | null; published: string | null; draft: string | null }>;
  blocked: boolean; reason: string | null;
}

export interface DraftSummary {
  id: number; baseRelease: number | null; status: DraftStatus; author: string; note: string | null; createdAt: string; updatedAt: string;
  approver: string | null; overrideReason: string | null; releaseId: number | null; gateBlocked: boolean | null;
}
export interface Changes { added: string[]; changed: string[]; removed: string[] }
export interface Draft extends Omit<DraftSummary, 'gateBlocked'> { files: Record<string, string>; gate: GateResult | null; changes: Changes }

export interface PreviewSide {
  intent: string; item: { id: string; name: string } | null; aspect: string | null; confidence: number; answer: string | null;
  sources: Array<{ itemId: string; section: string }>;
  candidates: Array<{ id: string; name: string; fused: number; bm25: { rank: number; score: number } | null; dense: { rank: number; score: number } | null }>;
}
export interface Preview { question: string; draft: PreviewSide; published: PreviewSide; changed: boolean }

export interface GuideFields {
  id: string; name: string; category: string; department: string;
  aliases: string[]; questions: string[]; situations: Situation[];
  sections: Record<SectionName, string>;
}
export interface Problem { field: string | null; line: number; message: string; fix: string }
/** The English version beside a guide and what is out of step in it (warnings: they never block a release). */
export interface EnglishCheck { present: boolean; warnings: Array<{ line: number; message: string; fix: string }> }
export interface GuideDoc { path: string; text: string; fields: GuideFields | null; published: string | null; problems: Problem[]; english: EnglishCheck }
export interface Checked { text: string; fields: GuideFields | null; problems: Problem[]; english: EnglishCheck }

export type Origin = 'document' | 'existing guide' | 'catalogue' | 'missing';
export interface GuideProposal {
  id: string; name: string; category: string; department: string;
  aliases: string[]; questions: string[]; situations: Situation[];
  sections: Record<SectionName, string[]>;
  origin: Record<string, Origin>;
  unplaced: string[];
  documentTitle: string | null;
}
export interface Imported { kind: 'docx' | 'pdf'; chars: number; proposal: GuideProposal; markdown: string }

export type ClusterStatus = 'open' | 'drafted' | 'dismissed' | 'fixed';
export type Source = 'question' | 'none_of_these' | 'handoff' | 'bad_rating' | 'hotline_unanswered' | 'hotline_useless';
export interface Cluster {
  id: number; label: string; status: ClusterStatus; questions: Array<{ text: string; count: number; sources: Source[] }>; asked: number;
  itemId: string | null; draftId: number | null; fixedRelease: number | null; lastCheck: { release: number; reached: number; of: number } | null;
  note: string | null; handledBy: string | null; firstAt: string; lastAt: string;
}

export const DRAFT_STATUS: Record<DraftStatus, string> = { draft: '草稿', submitted: '待审核', approved: '已审核', published: '已发布' };
export const DRAFT_TAG: Record<DraftStatus, TagType> = { draft: 'info', submitted: 'warning', approved: 'primary', published: 'success' };
export const RELEASE_KIND: Record<Release['kind'], string> = { seed: '初始', release: '发布', rollback: '回滚' };
export const ORIGIN: Record<Origin, string> = { document: '来自文件', 'existing guide': '沿用现有指南', catalogue: '来自事项目录', missing: '缺失' };
export const ORIGIN_TAG: Record<Origin, TagType> = { document: 'success', 'existing guide': 'primary', catalogue: 'info', missing: 'danger' };
export const CLUSTER_STATUS: Record<ClusterStatus, string> = { open: '待处理', drafted: '已建草稿', dismissed: '已忽略', fixed: '已解决' };
export const CLUSTER_TAG: Record<ClusterStatus, TagType> = { open: 'warning', drafted: 'primary', dismissed: 'info', fixed: 'success' };
export const SOURCE: Record<Source, string> = { question: '低置信度', none_of_these: '都不是', handoff: '转人工前', bad_rating: '差评', hotline_unanswered: '热线无答案', hotline_useless: '热线无用' };
export const FIELD_NAMES: Record<string, string> = {
  id: '事项编号', name: '事项名称', category: '类别', department: '部门', aliases: '别名', questions: '相似问', situations: '情形',
};

export const draftStatusName = (s: string) => DRAFT_STATUS[s as DraftStatus] ?? s;
export const draftPath = (id: number | string) => `/knowledge/drafts/${id}`;
export const guidePath = (draftId: number | string, itemId: string) => `/knowledge/drafts/${draftId}/guides/${encodeURIComponent(itemId)}`;
export const guideFile = (itemId: string) => `guides/${itemId}.md`;
/** The item of a guide file's path (guides/crj-01.md → crj-01), or null for another file. */
export const itemOfFile = (file: string) => /^guides\/([\w.-]+)\.md$/.exec(file)?.[1] ?? null;
export const me = () => session.me?.username ?? '';

const K = 'knowledge';
export const listGuides = () => api<GuideList>(`${K}/guides`);
export const listReleases = async () => (await api<{ releases: Release[] }>(`${K}/releases`)).releases;
export const rollback = (id: number, note?: string) => api<Release>(`${K}/releases/${id}/rollback`, note ? { note } : {});
export const listDrafts = async () => (await api<{ drafts: DraftSummary[] }>(`${K}/drafts`)).drafts;
export const createDraft = (note: string) => api<DraftSummary & { changes: Changes }>(`${K}/drafts`, { note });
export const getDraft = (id: number) => api<Draft>(`${K}/drafts/${id}`);
export const saveFiles = (id: number, files: Record<string, string | null>) => api<DraftSummary>(`${K}/drafts/${id}`, { files });
export const previewDraft = (id: number, text: string) => api<Preview>(`${K}/drafts/${id}/preview`, { text });
export const getGuide = (id: number, itemId: string) => api<GuideDoc>(`${K}/drafts/${id}/guides/${encodeURIComponent(itemId)}`);
export const checkGuide = (id: number, itemId: string, body: { text: string } | { fields: GuideFields }) => api<Checked>(`${K}/drafts/${id}/check`, { itemId, ...body });
export const submitDraft = (id: number) => api<Draft>(`${K}/drafts/${id}/submit`, {});
export const gateDraft = (id: number) => api<GateResult>(`${K}/drafts/${id}/gate`, {});
export const approveDraft = (id: number, overrideReason?: string) => api<Draft>(`${K}/drafts/${id}/approve`, overrideReason ? { overrideReason } : {});
export const publishDraft = (id: number, effectiveAt?: string) => api<Release>(`${K}/drafts/${id}/publish`, effectiveAt ? { effectiveAt } : {});
export const importDraft = (proposal: GuideProposal, note?: string) =>
  api<{ draft: DraftSummary; changes: Changes; problems: string[] }>(`${K}/import/draft`, note ? { proposal, note } : { proposal });
export const listClusters = async (status?: ClusterStatus) => (await api<{ clusters: Cluster[] }>(`${K}/unanswered${status ? `?status=${status}` : ''}`)).clusters;
export const linkCluster = (id: number, itemId: string) => api<{ cluster: Cluster; draft: DraftSummary; added: string[] }>(`${K}/unanswered/${id}/link`, { itemId });
export const dismissCluster = (id: number, note?: string) => api<Cluster>(`${K}/unanswered/${id}/dismiss`, note ? { note } : {});

export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
/** The content type the import takes for a file, from its name (browsers do not always say). */
export function importType(file: File): string | null {
  const name = file.name.toLowerCase();
  if (name.endsWith('.docx')) return DOCX;
  if (name.endsWith('.pdf')) return 'application/pdf';
  return null;
}

/** A service guide's bytes → the proposal; the same CSRF token and refusals as api(). */
export async function importFile(itemId: string, file: File): Promise<Imported> {
  const type = importType(file);
  if (!type) throw new ApiError('请上传 Word（.docx）或 PDF 格式的办事指南', 400, null);
  const res = await fetch(`/api/staff/${K}/import?itemId=${encodeURIComponent(itemId)}`, {
    method: 'POST',
    headers: { 'content-type': type, accept: 'application/json', 'x-csrf-token': session.me?.csrfToken ?? '' },
    body: await file.arrayBuffer(),
  });
  if (res.status === 401) {
    location.href = '/staff/login';
    throw new ApiError('登录已过期，请重新登录', 401, null);
  }
  const data = (await res.json().catch(() => null)) as (Imported & { error?: string }) | null;
  if (!res.ok) throw new ApiError(data?.error ?? `请求失败（${res.status}）`, res.status, data);
  return data as Imported;
}

/** The guide form's model: lists as text, one entry a line (keywords split on 、，, too). */
export interface GuideForm {
  id: string; name: string; category: string; department: string;
  aliases: string; questions: string;
  situations: Array<{ name: string; keywords: string; materials: string }>;
  sections: Record<SectionName, string>;
}

export const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const words = (text: string) => text.split(/[\n,，、;；]/).map((w) => w.trim()).filter(Boolean);

export function formOf(f: GuideFields): GuideForm {
  return {
    id: f.id, name: f.name, category: f.category, department: f.department,
    aliases: f.aliases.join('\n'), questions: f.questions.join('\n'),
    situations: f.situations.map((s) => ({ name: s.name, keywords: s.keywords.join('、'), materials: s.materials.join('\n') })),
    sections: Object.fromEntries(SECTION_NAMES.map((s) => [s, f.sections[s] ?? ''])) as Record<SectionName, string>,
  };
}

export function fieldsOf(f: GuideForm): GuideFields {
  return {
    id: f.id, name: f.name, category: f.category, department: f.department,
    aliases: lines(f.aliases), questions: lines(f.questions),
    situations: f.situations.map((s) => ({ name: s.name.trim(), keywords: words(s.keywords), materials: lines(s.materials) })),
    sections: Object.fromEntries(SECTION_NAMES.map((s) => [s, f.sections[s]])) as Record<SectionName, string>,
  };
}

export interface DiffLine { kind: 'added' | 'removed' | 'same' | 'skip'; text: string; old: number | null; new: number | null }

/**
 * The lines that differ from `before` to `after`, with `context` unchanged lines around each
 * change; longer unchanged runs are one 'skip' line saying how many are left out.
 */
export function diffRows(before: string, after: string, context = 3): DiffLine[] {
  const all: DiffLine[] = [];
  let o = 1;
  let n = 1;
  for (const part of diffLines(before, after)) {
    const texts = part.value.replace(/\n$/, '').split('\n');
    for (const text of texts) {
      if (part.added) all.push({ kind: 'added', text, old: null, new: n++ });
      else if (part.removed) all.push({ kind: 'removed', text, old: o++, new: null });
      else all.push({ kind: 'same', text, old: o++, new: n++ });
    }
  }
  const near = all.map(() => false);
  all.forEach((l, i) => {
    if (l.kind === 'same') return;
    for (let j = Math.max(0, i - context); j <= Math.min(all.length - 1, i + context); j++) near[j] = true;
  });
  const out: DiffLine[] = [];
  for (let i = 0; i < all.length; ) {
    if (near[i]) {
      out.push(all[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < all.length && !near[j]) j++;
    out.push({ kind: 'skip', text: `… ${j - i} 行未改动`, old: null, new: null });
    i = j;
  }
  return out;
}
