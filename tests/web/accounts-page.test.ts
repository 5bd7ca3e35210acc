/**
 * 账号管理 in a real browser: the admin logs in, creates an agent account with a unit, gives it
 * a second role, disables and enables it (each confirmed); the new account logs in at once
 * and lands on 人工会话. No CSP violation on the way.
 */
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff, getStaff } from '../../bot/store/staff.ts';
import { useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

/** Picks an option of an Element Plus select as a person does, and closes its list (a multiple select stays open). */
async function choose(page: Page, scope: Locator, label: string, option: string): Promise<void> {
  const box = scope.getByRole('combobox', { name: label });
  const select = scope.locator('.el-select').filter({ has: page.getByRole('combobox', { name: label }) });
  await select.click();
  const item = page.getByRole('listbox', { name: label }).getByRole('option', { name: option });
  await item.click();
  await expect.poll(() => item.getAttribute('aria-selected')).toBe('true');
  if ((await box.getAttribute('aria-expanded')) === 'true') await select.click();
  await expect.poll(() => box.getAttribute('aria-expanded')).toBe('false');
}

describe('staff console: 账号管理', () => {
  const t = useTestServer({}, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'root', 'admin-password-1', ['admin']);
    await db.close();
  });
  const b = useBrowser();

  it('an admin creates an agent account with a unit; it logs in and lands on 人工会话', async () => {
    const page = await b.browser.newPage({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${t.base}/staff/`);
    await page.getByLabel('用户名').fill('root');
    await page.getByLabel('密码').fill('admin-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    // An admin-only account opens on its one surface.
    await page.waitForURL(/\/staff\/accounts$/);
    await page.getByText('root（系统管理员）').waitFor();
    const table = page.locator('[data-test=accounts]');
    await table.getByText('root', { exact: true }).waitFor();

    await page.getByRole('button', { name: '新建账号' }).click();
    const form = page.getByRole('dialog', { name: '新建账号' });
    await form.getByLabel('用户名').fill('wang');
    await form.getByLabel('姓名').fill('王警官');
    await form.getByLabel('初始密码').fill('agent-password-1');
    await choose(page, form, '角色', '网办客服');
    await choose(page, form, '所属单位', '人民路派出所');
    await form.getByRole('button', { name: '创建' }).click();
    await page.getByText('已创建账号 wang').waitFor();
    await form.waitFor({ state: 'hidden' });
    const row = table.locator('tr', { hasText: 'wang' });
    await expect.poll(() => row.innerText()).toContain('人民路派出所');
    expect(await row.innerText()).toMatch(/王警官[\s\S]*网办客服[\s\S]*正常[\s\S]*从未登录/);

    // A second role, in the edit form.
    await page.getByRole('button', { name: '编辑 wang' }).click();
    const edit = page.getByRole('dialog', { name: '编辑账号 wang' });
    await choose(page, edit, '角色', '热线坐席');
    await edit.getByRole('button', { name: '保存' }).click();
    await page.getByText('已保存 wang').waitFor();
    await expect.poll(() => row.innerText()).toContain('热线坐席');

    // Disabling and enabling are confirmed first.
    await page.getByRole('button', { name: '停用 wang' }).click();
    await page.getByText('停用后 wang 将立即退出登录').waitFor();
    await page.getByRole('button', { name: '停用', exact: true }).click();
    await page.getByText('已停用 wang').waitFor();
    await expect.poll(() => row.innerText()).toContain('已停用');
    expect((await getStaff(t.server.db, 'wang'))?.disabled).toBe(true);
    await page.getByRole('button', { name: '启用 wang' }).click();
    await page.getByRole('button', { name: '启用', exact: true }).click();
    await page.getByText('已启用 wang').waitFor();
    await expect.poll(() => row.innerText()).toContain('正常');
    // One's own account cannot be disabled here.
    expect(await page.getByRole('button', { name: '停用 root' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: '退出' }).click();
    await page.waitForURL(/\/staff\/login$/);
    await page.getByLabel('用户名').fill('wang');
    await page.getByLabel('密码').fill('agent-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/staff\/inbox$/);
    await page.getByText('wang（网办客服、热线坐席）').waitFor();
    const nav = await page.getByRole('navigation', { name: '功能' }).innerText();
    expect(nav).toContain('人工会话');
    expect(nav).not.toContain('账号管理');
    expect(await getStaff(t.server.db, 'wang')).toMatchObject({ roles: ['agent', 'hotline'], unit: 'pcs-renmin', displayName: '王警官' });
    expect(violations).toEqual([]);
  });
});
