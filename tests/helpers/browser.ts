/** Debian's chromium driven by playwright-core; never a downloaded browser. */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // playwright gives every launch a fresh, empty profile of its own.
  });
}

/** Debian's chromium for the tests of one file, closed afterwards. */
export function useBrowser(): { browser: Browser } {
  const t = {} as { browser: Browser };
  beforeAll(async () => {
    t.browser = await launchChromium();
  });
  afterAll(async () => {
    await t.browser?.close();
  });
  return t;
}

/**
 * A staff member logged in to the console in a fresh browser context (its own cookies), on
 * the surface it opens (`lands`); every Content Security Policy violation is pushed to
 * `violations` under the username.
 */
export async function consoleLogin(browser: Browser, base: string, o: { username: string; password: string; lands: RegExp; violations: string[] }): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) o.violations.push(`${o.username}: ${m.text()}`);
  });
  await page.goto(`${base}/staff/`);
  await page.getByLabel('用户名').fill(o.username);
  await page.getByLabel('密码').fill(o.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(o.lands);
  return page;
}
