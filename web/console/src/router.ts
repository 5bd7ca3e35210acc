/** History routes under /staff/; a surface the roles do not open is never entered. */
import { createRouter, createWebHistory } from 'vue-router';
import { hasRole } from './session.ts';
import { SURFACES, visibleSurfaces } from './surfaces.ts';
import NoSurface from './views/NoSurface.vue';

const DESK_ROLES = SURFACES.find((s) => s.path === '/desk')!.roles;
const KB_ROLES = SURFACES.find((s) => s.path === '/knowledge')!.roles;

export const router = createRouter({
  history: createWebHistory('/staff/'),
  routes: [
    { path: '/', redirect: () => visibleSurfaces()[0]?.path ?? '/none' },
    { path: '/none', component: NoSurface },
    ...SURFACES.map((s) => ({ path: s.path, component: s.view, meta: { title: s.title, roles: s.roles } })),
    // One case of 诉求办理: not a menu item of its own; the menu keeps 诉求办理 (meta.menu).
    { path: '/desk/:id', component: () => import('./views/desk/CaseView.vue'), meta: { title: '诉求详情', roles: DESK_ROLES, menu: '/desk' } },
    { path: '/knowledge/import', component: () => import('./views/knowledge/ImportView.vue'), meta: { title: '导入办事指南', roles: KB_ROLES, menu: '/knowledge' } },
    { path: '/knowledge/drafts/:id', component: () => import('./views/knowledge/DraftView.vue'), meta: { title: '知识库草稿', roles: KB_ROLES, menu: '/knowledge' } },
    { path: '/knowledge/drafts/:id/guides/:itemId', component: () => import('./views/knowledge/GuideEditor.vue'), meta: { title: '编辑指南', roles: KB_ROLES, menu: '/knowledge' } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});

router.beforeEach((to) => {
  const roles = to.meta.roles as string[] | undefined;
  if (roles && !hasRole(...(roles as Parameters<typeof hasRole>))) return '/';
  return true;
});

router.afterEach((to) => {
  document.title = to.meta.title ? `${String(to.meta.title)} · 小安工作台` : '小安工作台';
});
