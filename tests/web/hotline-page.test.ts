/** 热线助手 in a real browser: a hotline account types what the caller says and gets suggestions. */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff } from '../../bot/store/staff.ts';
import { useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

describe('staff console: 热线助手', () => {
  const t = useTestServer({}, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'wang', 'hotline-password-1', ['hotline']);
    await db.close();
  });
  const b = useBrowser();

  it('suggests three sourced answers, shows a 110 emergency first, and says when there is no reliable answer', async () => {
    const page = await b.browser.newPage();
    // The console runs under a CSP without inline script or style: any violation is a bug.
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${t.base}/staff/`);
    await page.getByLabel('用户名').fill('wang');
    await page.getByLabel('密码').fill('hotline-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    // A hotline account opens on the assistant, its only surface.
    await page.waitForURL(/\/staff\/hotline$/);
    expect(await page.getByRole('navigation', { name: '功能' }).innerText()).toBe('热线助手');
    const callId = await page.locator('[data-test=callId]').innerText();
    expect(callId).toMatch(/^H\d{8}T\d{6}-[a-z]{6}$/);

    // Typed, and sent with Enter from the keyboard.
    const box = page.getByLabel('来电人说的话');
    await box.fill('身份证丢了怎么补办');
    await box.press('Enter');
    const cards = page.locator('[data-test^=suggestion-]');
    await expect.poll(() => cards.count()).toBe(3);
    const first = page.locator('[data-test=suggestion-1]');
    expect(await first.innerText()).toContain('居民身份证丢失补领');
    expect(await first.innerText()).toContain('丢失补领工本费每证 40 元');
    expect(await first.innerText()).toContain('问来电人');
    expect(await first.innerText()).toContain('请问您是在户籍地补领，还是在非户籍地异地补领？');
    for (let i = 1; i <= 3; i++) expect(await page.locator(`[data-test=suggestion-${i}] [data-test=source]`).innerText()).toMatch(/^来源：《.+》办事指南 · /);
    await first.getByRole('button', { name: '复制第 1 条建议' }).click();
    await page.getByText('已复制').waitFor();
    await first.getByRole('button', { name: '采纳', exact: true }).click();
    await page.getByText('已记录：采纳').first().waitFor();
    const stored = await t.server.db.query<{ verdict: string; item_id: string; utterance: string; actor: string }>('SELECT verdict, item_id, utterance, actor FROM assist_feedback');
    expect(stored.rows).toEqual([{ verdict: 'adopted', item_id: 'sfz-04', utterance: '身份证丢了怎么补办', actor: 'wang' }]);

    // A follow-up in the same call: the same item's fee, replacing the three suggestions.
    await box.fill('要多少钱');
    await box.press('Enter');
    await expect.poll(() => cards.count()).toBe(1);
    await expect.poll(() => first.innerText()).toContain('收费标准');

    // 修改后采纳 in a form.
    await first.getByRole('button', { name: '修改后采纳' }).click();
    await page.getByLabel('实际答复的内容').fill('补领身份证工本费 40 元。');
    await page.getByRole('button', { name: '提交' }).click();
    await page.getByText('已记录：修改后采纳').first().waitFor();

    // Emergency wording: the number first, above everything.
    await box.fill('有人拿刀砍人');
    await page.getByRole('button', { name: '获取建议' }).click();
    const banner = page.locator('[data-test=emergency]');
    await banner.waitFor();
    expect(await banner.innerText()).toMatch(/^\s*110/);
    expect(await banner.getAttribute('role')).toBe('alert');

    // A new call: a new id, no context, no banner; nonsense has no reliable answer.
    await page.getByRole('button', { name: '新来电' }).click();
    await expect.poll(() => page.locator('[data-test=callId]').innerText()).not.toBe(callId);
    expect(await banner.count()).toBe(0);
    await box.fill('要多少钱');
    await box.press('Enter');
    await page.locator('[data-test=unanswered]').waitFor();
    expect(await page.locator('[data-test=unanswered]').innerText()).toContain('无可靠答案');
    expect(await cards.count()).toBe(0);

    expect(violations).toEqual([]);
  });
});
