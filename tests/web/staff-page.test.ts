/** The staff desk page in a real browser: log in, see a case from the chat, accept it. */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff } from '../../bot/store/staff.ts';
import { useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

describe('staff desk page', () => {
  const t = useTestServer({}, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', 'handler');
    await db.close();
  });
  const b = useBrowser();

  it('logs in, lists the case and accepts it', async () => {
    const chat = (body: object) => fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'p1', ...body }) });
    await chat({ text: '举报小区地下室每天晚上有人聚众赌博，请派人查处' });
    await chat({ menuId: 'case:skip' });
    await chat({ text: '13812345678' });
    await chat({ menuId: 'case:skip' });
    await chat({ menuId: 'case:consent:no' });
    await chat({ menuId: 'case:submit' });

    const page = await b.browser.newPage();
    await page.goto(`${t.base}/staff/`);
    expect(page.url()).toContain('/staff/login');
    await page.getByLabel('用户名').fill('zhang');
    await page.getByLabel('密码').fill('wrong-password-x');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('用户名').fill('zhang');
    await page.getByLabel('密码').fill('handler-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('zhang（办理人员）').waitFor();
    await page.getByText('小区地下室每天晚上有人聚众赌博').first().waitFor();
    await page.getByRole('button', { name: '受理' }).first().click();
    await page.getByText('操作成功').waitFor();
    await expect.poll(async () => page.locator('#inProgress').innerText()).toContain('已受理');
  });
});
