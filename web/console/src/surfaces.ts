/** The surfaces of the console, in menu order: the roles that see each, and its view. */
import type { Component } from 'vue';
import { hasRole, type Role } from './session.ts';

export interface Surface {
  path: string;
  title: string;
  roles: Role[];
  view: () => Promise<Component | { default: Component }>;
}

export const SURFACES: Surface[] = [
  { path: '/inbox', title: '人工会话', roles: ['agent'], view: () => import('./views/inbox/InboxView.vue') },
  { path: '/dashboard', title: '统计', roles: ['supervisor'], view: () => import('./views/dashboard/DashboardView.vue') },
  { path: '/desk', title: '诉求办理', roles: ['handler', 'supervisor'], view: () => import('./views/desk/DeskView.vue') },
  { path: '/outbox', title: '转办异常', roles: ['handler', 'supervisor'], view: () => import('./views/outbox/OutboxView.vue') },
  { path: '/audit', title: '审计日志', roles: ['supervisor'], view: () => import('./views/audit/AuditView.vue') },
  { path: '/knowledge', title: '知识库', roles: ['editor'], view: () => import('./views/knowledge/KnowledgeView.vue') },
  { path: '/hotline', title: '热线助手', roles: ['hotline'], view: () => import('./views/hotline/HotlineView.vue') },
  { path: '/accounts', title: '账号管理', roles: ['admin'], view: () => import('./views/accounts/AccountsView.vue') },
];

export const visibleSurfaces = (): Surface[] => SURFACES.filter((s) => hasRole(...s.roles));
