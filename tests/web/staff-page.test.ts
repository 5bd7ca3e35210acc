/** The staff console's desk in a real browser: log in, see a case from the chat, accept it. */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff } from '../../bot/store/staff.ts';
import { useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

describe('staff console: the desk', () => {
  const t = useTestServer({ CHAT_API_TOKEN: 'chat-token-0123456789' }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhang', 'handler-password-1', ['handler'], 'cli', { unit: 'sj' });
    await db.close();
  });
  const b = useBrowser();

  it('logs in, lists the case and accepts it', async () => {
    const chat = (body: object) => fetch(`${t.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer chat-token-0123456789' }, body: JSON.stringify({ userId: 'p1', ...body }) });
    await chat({ text: '举报小区地下室每天晚上有人聚众赌博，请派人查处' });
    await chat({ menuId: 'case:skip' });
    await chat({ text: '13812345678' });
    await chat({ menuId: 'case:skip' });
    await chat({ menuId: 'case:consent:no' });
    await chat({ menuId: 'case:submit' });

    const page = await b.browser.newPage();
    // The pages run under a CSP without inline script or style: any violation is a bug.
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${t.base}/staff/`);
    expect(page.url()).toContain('/staff/login');
    await page.getByLabel('用户名').fill('zhang');
    await page.getByLabel('密码').fill('wrong-password-x');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').innerText()).toBe('用户名或密码不正确。请重试。');
    await page.getByLabel('用户名').fill('zhang');
    await page.getByLabel('密码').fill('handler-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('zhang（办理人员）').waitFor();
    // The console opens on the first surface the roles allow; surfaces of other roles are not offered.
    await page.waitForURL(/\/staff\/desk$/);
    expect(await page.getByRole('navigation', { name: '功能' }).innerText()).not.toContain('审计日志');
    await page.getByText('本单位：全市').waitFor();
    const list = page.locator('[data-test=case-list]');
    await list.getByText('小区地下室每天晚上有人聚众赌博').first().waitFor();
    expect(await list.innerText()).toContain('待受理');
    // The case page: accept it, then reply.
    await list.getByRole('link', { name: /^XA\d+$/ }).first().click();
    await page.waitForURL(/\/staff\/desk\/XA\d+$/);
    const status = page.locator('[data-test=case-status]');
    await status.getByText('待受理').waitFor();
    await page.getByRole('button', { name: '受理', exact: true }).click();
    await page.getByText('已受理').first().waitFor();
    await expect.poll(() => status.innerText()).toBe('已受理');
    // A reply is written in a form, not a one-line prompt.
    await page.getByRole('button', { name: '答复', exact: true }).click();
    await page.getByRole('dialog', { name: '答复群众' }).getByLabel('答复内容').fill('已联系物业，地下室已封闭。\n民警将加强夜间巡查。');
    await page.getByRole('button', { name: '发送答复' }).click();
    await expect.poll(() => status.innerText()).toBe('已答复');
    // The desk sent the session's CSRF token with the action; the contact is shown on request only.
    expect(await page.locator('body').innerText()).not.toContain('13812345678');
    await page.getByRole('button', { name: '查看联系方式' }).click();
    await page.locator('[data-test=contact]').getByText('13812345678').waitFor();
    await page.getByRole('button', { name: '退出' }).click();
    await page.waitForURL(/\/staff\/login$/);
    await page.goto(`${t.base}/staff/login?error=wait&wait=900`);
    expect(await page.getByRole('alert').innerText()).toBe('登录失败次数过多，请 15 分钟后再试。');
    expect(violations).toEqual([]);
  });

  it('shows a case the platform held as invalid; a handler corrects it and it goes through', async () => {
    const request = {
      channel: 'web',
      userId: 'w-held',
      newCase: { type: '投诉', description: '窗口人员态度差', category: '不存在的分类', citizen: { id: 'web:w-held', mobile: '13812345678', consentToContact: true }, channel: 'web' },
    };
    await t.server.db.query(
      `INSERT INTO outbox (kind, idempotency_key, payload, status, attempts, last_status, last_error) VALUES ('create_case', 'case:held-1', $1, 'invalid', 1, 422, 'case platform answered 422: description too short')`,
      [JSON.stringify(request)],
    );
    const page = await b.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${t.base}/staff/login`);
    await page.getByLabel('用户名').fill('zhang');
    await page.getByLabel('密码').fill('handler-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/staff\/desk$/);
    await page.getByRole('navigation', { name: '功能' }).getByText('转办异常').click();
    const table = page.locator('[data-test=outbox]');
    await table.getByText('内容有误，待修改').waitFor();
    expect(await table.innerText()).not.toContain('13812345678');
    await table.getByRole('button', { name: '修改并重发' }).click();
    await page.getByLabel('诉求内容').fill('政务大厅户籍窗口工作人员态度很差，多次推诿不办理。');
    await page.getByLabel('分类').fill('窗口服务');
    await page.getByRole('button', { name: '重新提交' }).click();
    await page.getByText(/已重新提交，诉求编号 XA\d+/).waitFor();
    await table.getByText('没有未送达的调用').waitFor();
  });
});
