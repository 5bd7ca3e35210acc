/** History routes under /staff/; a surface the roles do not open is never entered. */
import { createRouter, createWebHistory } from 'vue-router';
import { hasRole } from './session.ts';
import { SURFACES, visibleSurfaces } from './surfaces.ts';
import NoSurface from './views/NoSurface.vue';

export const router = createRouter({
  history: createWebHistory('/staff/'),
  routes: [
    { path: '/', redirect: () => visibleSurfaces()[0]?.path ?? '/none' },
    { path: '/none', component: NoSurface },
    ...SURFACES.map((s) => ({ path: s.path, component: s.view, meta: { title: s.title, roles: s.roles } })),
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
