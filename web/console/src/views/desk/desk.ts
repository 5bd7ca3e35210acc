/**
 * What the case desk's pages share: the API's shapes (bot/server/openapi.yaml: CaseSummary,
 * CaseDetail, InfoRequest, CaseStep), the Chinese names of statuses and SLA colours, the
 * desk's options (loaded once; they set the bureau's time zone), the units tree, and the live
 * stream of case changes.
 */
import { onBeforeUnmount } from 'vue';
import { api } from '../../api.ts';
import { setBureauTimeZone } from '../../time.ts';

export type CaseStatus = 'submitted' | 'accepted' | 'in_progress' | 'replied' | 'closed';
export type Sla = 'overdue' | 'due_soon' | 'on_time' | 'closed_on_time' | 'closed_late';
export type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info';

export interface CaseSummary {
  id: string; status: CaseStatus; type: string; category: string; description: string; place: string | null;
  handlingUnitId: string; handlingUnit: string; supervisingUnitId: string; supervisingUnit: string;
  assignee: string | null; assigneeName: string | null; level: 1 | 2 | 3; round: number; repeatOf: string | null; repeats: number; waitingForCitizen: boolean;
  dueAt: string; createdAt: string; updatedAt: string; closedAt: string | null; sla: Sla;
}
export interface CaseCounts { open: number; notStarted: number; inProgress: number; overdue: number; dueSoon: number; mine: number; escalated: number; closed: number }
export interface CasePage { items: CaseSummary[]; total: number; page: number; pageSize: number; counts: CaseCounts }

export interface CaseStep { at: string; actor: string; action: string; note?: string; internal?: boolean }
export interface InfoRequest { id: number; question: string; askedBy: string; askedAt: string; answer: string | null; answeredAt: string | null }
export interface CaseDetail {
  id: string; status: CaseStatus; type: string; category?: string; description: string; handlingUnit?: string; supervisingUnit?: string;
  dueAt?: string; round: number; level: 1 | 2 | 3; repeatOf?: string; reply?: string; createdAt: string; steps?: CaseStep[];
  handlingUnitId: string; supervisingUnitId: string; place: string | null; assignee: string | null; assigneeName: string | null;
  channel: string | null; consentToContact: boolean; contactMasked: { mobile: string | null; name: string | null };
  updatedAt: string; closedAt: string | null; sla: Sla;
  repeatOfCase: { id: string; status: CaseStatus; handlingUnit: string } | null;
  repeats: Array<{ id: string; status: CaseStatus; createdAt: string }>;
  infoRequests: InfoRequest[];
  actors: Record<string, string>;
  can?: { work: boolean };
}

export interface Unit { id: string; name: string; parent: string | null; path: string }
export interface Template { title: string; text: string }
export interface DeskOptions {
  timeZone: string;
  types: string[];
  categories: string[];
  units: Unit[];
  dispatcher: string;
  templates: Record<string, Template[]>;
  me: { username: string; unit: string | null; unitName: string | null; all: boolean; acts: boolean; units: string[] };
}

export interface CaseChangeEvent { caseId: string; kind: 'created' | 'changed'; action: string; status: CaseStatus; handlingUnitId: string }

export const STATUS: Record<CaseStatus, string> = { submitted: '待受理', accepted: '已受理', in_progress: '办理中', replied: '已答复', closed: '已办结' };
export const STATUS_TAG: Record<CaseStatus, TagType> = { submitted: 'warning', accepted: 'primary', in_progress: 'primary', replied: 'success', closed: 'info' };
export const SLA: Record<Sla, string> = { overdue: '已超期', due_soon: '24小时内到期', on_time: '正常', closed_on_time: '按时办结', closed_late: '超期办结' };
export const SLA_TAG: Record<Sla, TagType> = { overdue: 'danger', due_soon: 'warning', on_time: 'success', closed_on_time: 'info', closed_late: 'danger' };
export const CHANNELS: Record<string, string> = { web: '网页对话', wecom: '微信', api: '接口', hotline: '热线电话', desk: '窗口登记' };
export const LEVELS: Record<number, string> = { 1: '首次办理', 2: '二级回访', 3: '三级回访' };

export const channelName = (c: string | null) => (c ? (CHANNELS[c] ?? c) : '—');
export const statusName = (s: string) => STATUS[s as CaseStatus] ?? s;
export const casePath = (id: string) => `/desk/${encodeURIComponent(id)}`;

let options: Promise<DeskOptions> | null = null;

/** The desk's options, fetched once per page load; the bureau's time zone is set before any time is shown. */
export function loadOptions(): Promise<DeskOptions> {
  options ??= api<DeskOptions>('cases/options').then(
    (o) => {
      setBureauTimeZone(o.timeZone);
      return o;
    },
    (e: unknown) => {
      options = null;
      throw e;
    },
  );
  return options;
}

export interface UnitNode { value: string; label: string; children?: UnitNode[]; disabled?: boolean }

/**
 * The units as a tree (from each unit's parent), for a tree select. `only`: the units to
 * keep (with the units above them, disabled, to hold them in place); `disable`: units that
 * cannot be chosen.
 */
export function unitTree(units: Unit[], o: { only?: string[]; disable?: string[] } = {}): UnitNode[] {
  const byId = new Map(units.map((u) => [u.id, u]));
  let keep: Set<string> | null = null;
  if (o.only) {
    keep = new Set<string>();
    for (const id of o.only) for (let u = byId.get(id); u && !keep.has(u.id); u = u.parent ? byId.get(u.parent) : undefined) keep.add(u.id);
  }
  const chosen = new Set(o.only ?? units.map((u) => u.id));
  const disabled = new Set(o.disable ?? []);
  const nodes = new Map<string, UnitNode>();
  for (const u of units) {
    if (keep && !keep.has(u.id)) continue;
    nodes.set(u.id, { value: u.id, label: u.name, ...(disabled.has(u.id) || !chosen.has(u.id) ? { disabled: true } : {}) });
  }
  const roots: UnitNode[] = [];
  for (const u of units) {
    const n = nodes.get(u.id);
    if (!n) continue;
    const parent = u.parent ? nodes.get(u.parent) : undefined;
    if (parent && parent !== n) (parent.children ??= []).push(n);
    else roots.push(n);
  }
  return roots;
}

/**
 * The live stream of case changes in the caller's scope, closed with the page. `onEvent`
 * says whether the change matters to the page; changes come in bursts (a case and its
 * repeats), so `onChange` is called once per quiet `debounceMs` after those that do.
 */
export function useCaseEvents(onEvent: (e: CaseChangeEvent) => boolean, onChange: () => void, debounceMs = 300): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new EventSource('/api/staff/cases/events');
  stream.addEventListener('case', (ev) => {
    let e: CaseChangeEvent;
    try {
      e = JSON.parse((ev as MessageEvent<string>).data) as CaseChangeEvent;
    } catch {
      return;
    }
    if (!onEvent(e)) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  onBeforeUnmount(() => {
    clearTimeout(timer);
    stream.close();
  });
}
