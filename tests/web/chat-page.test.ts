/** The web chat in a real browser: ask, tap a menu button, see the answer and its source. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

describe('web chat page', () => {
  const t = useTestServer();
  const b = useBrowser();

  it('asks "身份证丢了怎么办", taps a menu button and sees the answer', async () => {
    const page = await b.browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const blocked: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(t.base)) blocked.push(r.url());
    });
    await page.goto(t.base);
    await expect(page.title()).resolves.toContain('小安');
    // The welcome menu arrives by itself.
    await page.getByRole('button', { name: '身份证丢了怎么补' }).waitFor();

    await page.getByLabel('输入您的问题').fill('身份证丢了怎么办');
    await page.keyboard.press('Enter');
    await page.getByText('身份证丢了怎么办', { exact: true }).waitFor();
    // 情形 menu as buttons, then the answer for the chosen one.
    const choice = page.getByRole('button', { name: '在户籍地补领' });
    await choice.waitFor();
    await choice.click();
    await page.getByText('来源：《居民身份证丢失补领》办事指南').first().waitFor();
    const log = await page.locator('#log').innerText();
    expect(log).toContain('工本费每证 40 元');

    // A follow-up button works from the keyboard too.
    const fees = page.getByRole('button', { name: '收费标准' }).last();
    await fees.focus();
    await page.keyboard.press('Enter');
    await page.getByText('来源：《居民身份证丢失补领》办事指南·收费标准').waitFor();

    // Large text for elderly users.
    const before = await page.evaluate(() => getComputedStyle(document.body).fontSize);
    await page.getByRole('button', { name: /大字模式/ }).click();
    const after = await page.evaluate(() => getComputedStyle(document.body).fontSize);
    expect(parseFloat(after)).toBeGreaterThan(parseFloat(before));
    // Everything came from our own server: no CDN.
    expect(blocked).toEqual([]);
  });

  /** The citizen behind the page's session cookie, as the server knows them. */
  const citizenOf = async (page: Page) => {
    const sid = (await page.context().cookies()).find((c) => c.name === 'xiaoan_sid');
    expect(sid?.httpOnly).toBe(true);
    const { rows } = await t.server.db.query<{ user_id: string }>('SELECT user_id FROM citizen_sessions WHERE token_hash = $1', [
      createHash('sha256').update(sid!.value).digest('hex'),
    ]);
    return rows[0]!.user_id;
  };

  it('keeps the transcript and the session across a reload, and no id in the page', async () => {
    const page = await b.browser.newPage();
    await page.goto(t.base);
    await page.getByRole('button', { name: '身份证丢了怎么补' }).waitFor();
    await page.getByLabel('输入您的问题').fill('护照怎么办理');
    await page.keyboard.press('Enter');
    await page.getByText('护照怎么办理', { exact: true }).waitFor();
    await expect.poll(async () => (await page.locator('#log').innerText()).includes('普通护照')).toBe(true);
    const who = await citizenOf(page);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(who);

    await page.reload();
    await page.getByText('护照怎么办理', { exact: true }).waitFor();
    expect(await page.locator('#log').innerText()).toContain('普通护照');
    expect(await citizenOf(page)).toBe(who);
    // The reloaded chat is not welcomed a second time.
    expect(await page.getByRole('button', { name: '身份证丢了怎么补' }).count()).toBe(1);
  });

  it('shows a pushed message in an open chat', async () => {
    const page = await b.browser.newPage();
    await page.goto(t.base);
    await page.getByRole('button', { name: '转人工' }).waitFor();
    const userId = await citizenOf(page);
    await expect.poll(() => t.server.push.publish('web', userId!, [{ type: 'text', text: '您反映的问题已办结，请您评价。' }])).toBeGreaterThan(0);
    await page.getByText('您反映的问题已办结，请您评价。').waitFor();
  });
});
