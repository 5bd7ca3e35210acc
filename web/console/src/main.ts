/** The staff console: who is logged in first, then the app with the surfaces their roles open. */
import { createApp } from 'vue';
import ElementPlus from 'element-plus';
import zhCn from 'element-plus/es/locale/lang/zh-cn';
import 'element-plus/dist/index.css';
import './console.css';
import App from './App.vue';
import { api, useCsrf } from './api.ts';
import { router } from './router.ts';
import { session, type Me } from './session.ts';

async function start(): Promise<void> {
  const me = await api<Me>('me');
  session.me = me;
  useCsrf(me.csrfToken ?? '');
  createApp(App).use(ElementPlus, { locale: zhCn }).use(router).mount('#app');
}

start().catch((e: Error) => {
  document.getElementById('app')!.textContent = `工作台加载失败：${e.message}`;
});
