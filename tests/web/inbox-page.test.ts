/**
 * 人工会话 in two real browsers: a citizen says 转人工 in the web chat, an agent sees it in
 * the console, accepts and replies, the citizen sees the reply; release hands the chat back;
 * a chat nobody accepts offers the citizen 留言.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff } from '../../bot/store/staff.ts';
import { useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

const cspWatch = (page: Page) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return violations;
};

async function agentPage(browser: Browser, base: string): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  const violations = cspWatch(page);
  await page.goto(`${base}/staff/`);
  await page.getByLabel('用户名').fill('wang');
  await page.getByLabel('密码').fill('agent-password-1');
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/staff\/inbox$/);
  return { page, violations };
}

async function citizenPage(browser: Browser, base: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  await page.goto(base);
  await page.getByRole('button', { name: '身份证丢了怎么补' }).waitFor();
  return page;
}

const say = async (page: Page, text: string) => {
  await page.getByLabel('输入您的问题').fill(text);
  await page.keyboard.press('Enter');
};

describe('the live inbox in the browser', () => {
  const t = useTestServer({ HANDOFF_MODE: 'queue', SERVICE_HOURS: '7×24 小时', HANDOFF_WAIT_MINUTES: '0.05' }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'wang', 'agent-password-1', ['agent']);
    await db.close();
  });
  const b = useBrowser();

  it('a citizen says 转人工; the agent sees it, accepts and replies; release hands it back', async () => {
    const { page: agent, violations } = await agentPage(b.browser, t.base);
    const citizen = await citizenPage(b.browser, t.base);
    await say(citizen, '户口迁移需要什么材料');
    await citizen.getByText('户口迁移需要什么材料', { exact: true }).waitFor();
    await say(citizen, '转人工');
    await citizen.getByText('已为您转接人工客服').waitFor();

    // Pushed to the open console: no reload, no polling loop.
    const chat = agent.locator('[data-test^="chat-w-"]').first();
    await chat.waitFor({ timeout: 5_000 });
    expect(await chat.innerText()).toContain('待接入');
    await chat.click();
    await agent.getByText('户口迁移需要什么材料').first().waitFor();
    await agent.getByRole('button', { name: '接入', exact: true }).click();
    await citizen.getByText('工作人员已接入').waitFor();

    await agent.getByLabel('回复内容').fill('您好，我是网办中心的王警官，请问您是要迁入还是迁出？');
    await agent.getByRole('button', { name: '发送', exact: true }).click();
    await citizen.getByText('我是网办中心的王警官').waitFor();

    // The citizen's answer reaches the agent's open chat by itself; the bot says nothing.
    await say(citizen, '是迁入，从外省迁过来');
    await agent.getByText('是迁入，从外省迁过来').waitFor();

    await agent.getByRole('button', { name: '结束人工' }).click();
    await citizen.getByText('本次人工服务已结束').waitFor();
    await say(citizen, '身份证丢了补办要多少钱');
    await citizen.getByText('工本费').first().waitFor();
    expect(violations).toEqual([]);
  });

  it('offers 留言 to a citizen nobody accepts in time', async () => {
    const citizen = await citizenPage(b.browser, t.base);
    await say(citizen, '转人工');
    await citizen.getByText('已为您转接人工客服').waitFor();
    await citizen.getByText('没能及时接入').waitFor({ timeout: 15_000 });
    const leave = citizen.getByRole('button', { name: /留言/ }).last();
    await leave.click();
    await citizen.getByText('我来帮您登记').waitFor();
  });
});
