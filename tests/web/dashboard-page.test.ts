/**
 * 统计 in a real browser, "the supervisor's month": generated traffic (questions, a
 * hand-over, a question out of scope; cases of two 派出所 closed on time and late, overdue,
 * escalated, a 差评 put right). The bureau's supervisor opens on 统计 and sees the numbers
 * the API reconciles (tests/bot/server/stats.test.ts), each with its definition, the charts
 * drawn, the units' league table in order and the warnings; narrows to 中心区分局; opens the
 * rows behind 超期 (and a unit's 超期, and a slice of a pie) and downloads them as CSV. A
 * 分局's supervisor sees no conversations and only their own units; a handler of 人民路派出所
 * is warned in 诉求办理. No CSP violation on the way (the charts' tooltips included).
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff } from '../../bot/store/staff.ts';
import { consoleLogin, useBrowser } from '../helpers/browser.ts';
import { generateStatsTraffic, STATS_ENV } from '../helpers/stats-traffic.ts';
import { useTestServer } from '../helpers/server.ts';

const PASSWORD = 'dashboard-pass-1';

describe('staff console: 统计', () => {
  const t = useTestServer(STATS_ENV, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'ju', PASSWORD, ['supervisor'], 'cli', { unit: 'sj', displayName: '局督办' });
    await addStaff(db, 'fen', PASSWORD, ['supervisor'], 'cli', { unit: 'fj-zhongxin', displayName: '分局督办' });
    await addStaff(db, 'zhou', PASSWORD, ['handler'], 'cli', { unit: 'pcs-renmin', displayName: '周警官' });
    await db.close();
  });
  const b = useBrowser();

  const login = (username: string, lands: RegExp, violations: string[]) => consoleLogin(b.browser, t.base, { username, password: PASSWORD, lands, violations });
  const card = (page: Page, label: string) => page.locator(`[data-test="card-${label}"] .stat-value`);
  /** The drill-down drawer open on screen, its rows' first cells (the ids), and its CSV link. */
  const drawer = (page: Page) => page.locator('.el-drawer').filter({ has: page.locator('[data-test=rows]') });
  const ids = async (page: Page) => (await drawer(page).locator('[data-test=rows] tbody tr td:first-child').allInnerTexts()).map((s) => s.trim()).sort();
  const closeDrawer = async (page: Page) => {
    await drawer(page).getByRole('button', { name: /关闭/ }).click();
    await drawer(page).waitFor({ state: 'hidden' });
  };
  /** The CSV behind the drawer's link, fetched with the page's own cookies: its lines, without the byte-order mark. */
  async function csvLines(page: Page): Promise<{ href: string; lines: string[] }> {
    const href = (await drawer(page).locator('[data-test=csv]').getAttribute('href'))!;
    const res = await page.request.get(new URL(href, t.base).toString());
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('text/csv');
    const text = (await res.text()).replace(/^\uFEFF/, '');
    expect(text.startsWith('编号,')).toBe(true);
    return { href, lines: text.trim().split('\r\n') };
  }

  it("the supervisor's month: reconciled numbers with definitions, charts, league table, warnings; a unit; rows and CSV; a 分局's view; a handler warned", async () => {
    await generateStatsTraffic(t.base, t.server.db);

    // The bureau's supervisor opens on 统计, the first of their surfaces.
    const violations: string[] = [];
    const ju = await login('ju', /\/staff\/dashboard$/, violations);
    expect(await ju.getByRole('navigation', { name: '功能' }).innerText()).toMatch(/^统计\s+诉求办理/);
    await ju.getByText('范围：全市').waitFor();
    await card(ju, '诉求登记').waitFor();

    // The headline numbers, exactly those of the generated traffic.
    const expected: Record<string, string> = {
      会话: '3', 提问: '3', 自助解决率: '33.3%', 转人工率: '33.3%', 未答率: '33.3%',
      诉求登记: '4', 办结: '3', 超期: '2', 升级: '1', 按期办结率: '66.7%', 首次处置中位时长: '4 小时', 办结中位时长: '24 小时',
      满意度: '66.7%', 差评: '1', 差评整改: '1', 未评价: '1',
    };
    for (const [label, value] of Object.entries(expected)) expect([label, await card(ju, label).innerText()]).toEqual([label, value]);
    expect(await ju.locator('[data-test="card-会话"]').innerText()).toContain('消息 4 条');
    expect(await ju.locator('[data-test=no-service]').count()).toBe(0);

    // Warnings at the top: one overdue case at 滨江派出所, one 差评 at 人民路派出所.
    const warnings = ju.getByRole('region', { name: '预警' });
    expect(await warnings.getByRole('alert').allInnerTexts()).toEqual(['预警：滨江派出所 超期未办结 1 件（预警线 1 件）', '预警：人民路派出所 近 30 天差评 1 件（预警线 1 件）']);

    // Every chart drawn on a canvas, and described in words.
    const charts = ju.locator('[data-test^="chart-"]');
    expect(await charts.count()).toBe(9);
    for (const chart of await charts.all()) await chart.locator('canvas').first().waitFor();
    expect(await ju.locator('[data-test="chart-question-category"] [role=img]').getAttribute('aria-label')).toMatch(/^提问类别：.*出入境 1/);
    expect(await ju.locator('[data-test="chart-units"] [role=img]').getAttribute('aria-label')).toBe('各单位诉求：滨江派出所 登记 2 办结 1 超期 1；人民路派出所 登记 2 办结 2 超期 1');

    // A definition on hover (the API's definitions.yaml).
    await ju.locator('[data-test="card-自助解决率"] [data-test=definition]').hover();
    await ju.getByRole('tooltip').filter({ hasText: '72 小时内没有就同一事项再问' }).waitFor();
    await ju.locator('[data-test="chart-units"] [data-test=definition]').hover();
    await ju.getByRole('tooltip').filter({ hasText: '时段内登记的诉求，按类型、类别和承办单位统计' }).waitFor();

    // The league table: 滨江派出所 first (all closed on time), then 人民路派出所.
    const league = ju.locator('[data-test=unit-table]');
    const rows = league.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect((await rows.nth(0).innerText()).replace(/\s+/g, ' ')).toBe('1 滨江派出所 2 1 1 0 100% 10 小时 6 小时 — 0');
    expect((await rows.nth(1).innerText()).replace(/\s+/g, ' ')).toBe('2 人民路派出所 2 2 1 1 50% 3 小时 36 小时 66.7% 1');
    // Sortable: by 按期办结率 ascending 人民路派出所 comes first; clicked again, the API's order is back.
    await league.getByRole('columnheader', { name: /按期办结率/ }).locator('.caret-wrapper .ascending').click();
    await expect.poll(async () => (await rows.nth(0).innerText()).includes('人民路派出所')).toBe(true);
    await league.getByRole('columnheader', { name: /按期办结率/ }).locator('.caret-wrapper .ascending').click();
    await expect.poll(async () => (await rows.nth(0).innerText()).includes('滨江派出所')).toBe(true);

    // The charts' tooltips are drawn on the canvas: ECharts' HTML tooltip writes style
    // attributes (its colour markers), which the CSP refuses — hovering would be a violation.
    const bars = ju.locator('[data-test="chart-units"] canvas').first();
    const barBox = (await bars.boundingBox())!;
    for (const x of [0.3, 0.7]) {
      await bars.hover({ position: { x: barBox.width * x, y: barBox.height * 0.6 } });
      await ju.waitForTimeout(300);
    }
    const pie = ju.locator('[data-test="chart-question-category"] canvas').first();
    const box = (await pie.boundingBox())!;
    const ring = { x: box.width / 2 + 0.48 * (Math.min(box.width, box.height) / 2), y: box.height * 0.44 };
    await pie.hover({ position: ring });
    await ju.waitForTimeout(300);
    // A slice opens the questions of its category.
    await pie.click({ position: ring });
    const d = drawer(ju);
    const heading = d.getByText(/^提问类别：\S+（1 条）$/);
    await heading.waitFor();
    const category = /^提问类别：(\S+)（/.exec(await heading.innerText())![1]!;
    expect(await d.locator('[data-test=rows] tbody tr').count()).toBe(1);
    expect(await d.locator('[data-test=rows] tbody').innerText()).toContain(category);
    expect(decodeURIComponent(await d.locator('[data-test=csv]').getAttribute('href') ?? '')).toContain(`kind=questions`);
    await closeDrawer(ju);

    // 超期 of the whole bureau: XA2 (closed late) and XA3 (open, past due).
    await ju.getByRole('button', { name: '查看明细：超期 2' }).click();
    await d.getByText('超期的诉求（2 条）').waitFor();
    expect(await ids(ju)).toEqual(['XA2', 'XA3']);
    const all = await csvLines(ju);
    expect(new URL(all.href, t.base).searchParams.get('where.overdue')).toBe('true');
    expect(all.lines).toHaveLength(1 + 2);
    // The headings are the server's, the same as the export's; the rows also come as Excel.
    expect(await d.locator('[data-test=rows] thead').innerText()).toContain('承办单位');
    expect(all.lines[0]).toContain('承办单位');
    const xlsx = await ju.request.get(new URL((await d.locator('[data-test=xlsx]').getAttribute('href'))!, t.base).toString());
    expect(xlsx.headers()['content-type']).toContain('spreadsheetml');
    expect((await xlsx.body()).subarray(0, 2).toString()).toBe('PK');
    await closeDrawer(ju);

    // A slice of 好差评分布 opens the cases rated so.
    const ratings = ju.locator('[data-test="chart-ratings"] canvas').first();
    await ratings.scrollIntoViewIfNeeded();
    const rbox = (await ratings.boundingBox())!;
    await ratings.click({ position: { x: rbox.width / 2 + 0.48 * (Math.min(rbox.width, rbox.height) / 2), y: rbox.height * 0.44 } });
    const rated = d.getByText(/^评价：\S+（1 条）$/);
    await rated.waitFor();
    const rating = /^评价：(\S+)（/.exec(await rated.innerText())![1]!;
    expect(await d.locator('[data-test=rows] tbody').innerText()).toContain(rating);
    await closeDrawer(ju);

    // A unit's 超期 from the league table: that unit's only.
    await league.locator('[data-test="pcs-binjiang-overdue"]').click();
    await d.getByText('滨江派出所 · 超期的诉求（1 条）').waitFor();
    expect(await ids(ju)).toEqual(['XA3']);
    await closeDrawer(ju);

    // The hand-overs, from the 转人工率 card.
    await ju.getByRole('button', { name: '查看明细：转人工率 33.3%' }).click();
    await d.getByText('转人工的会话（1 条）').waitFor();
    expect(await d.locator('[data-test=rows] tbody').innerText()).toContain('答复后仍要人工');
    await closeDrawer(ju);

    // 中心区分局: its 派出所's cases only; conversations belong to no unit.
    await ju.locator('.el-select').filter({ has: ju.getByRole('combobox', { name: '单位' }) }).click();
    await ju.locator('.el-tree-node__content').filter({ hasText: /^\s*中心区分局\s*$/ }).click();
    await ju.waitForURL(/unit=fj-zhongxin/);
    await expect.poll(() => card(ju, '诉求登记').innerText()).toBe('2');
    expect(await card(ju, '超期').innerText()).toBe('1');
    expect(await ju.locator('[data-test=no-service]').innerText()).toContain('会话和提问统计仅对局级开放');
    expect(await ju.locator('[data-test="card-会话"]').count()).toBe(0);
    expect(await league.locator('tbody tr').allInnerTexts()).toEqual([expect.stringContaining('人民路派出所')]);
    await ju.getByRole('button', { name: '查看明细：超期 1' }).click();
    await d.getByText('超期的诉求（1 条）').waitFor();
    expect(await ids(ju)).toEqual(['XA2']);
    const unit = await csvLines(ju);
    const q = new URL(unit.href, t.base).searchParams;
    expect([q.get('kind'), q.get('unit'), q.get('where.overdue'), q.get('format')]).toEqual(['cases', 'fj-zhongxin', 'true', 'csv']);
    expect(q.get('from')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(q.get('to')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(unit.lines).toHaveLength(1 + 1);
    expect(unit.lines[1]).toMatch(/^XA2,/);
    // A case of the rows opens in 诉求办理.
    await d.getByRole('link', { name: 'XA2' }).click();
    await ju.waitForURL(/\/staff\/desk\/XA2$/);
    // A period before the traffic (the filter lives in the URL): nothing, and the picker says so.
    await ju.goto(`${t.base}/staff/dashboard?from=2020-01-01&to=2020-01-31`);
    await expect.poll(() => card(ju, '诉求登记').innerText()).toBe('0');
    expect(await card(ju, '会话').innerText()).toBe('0');
    expect(await card(ju, '按期办结率').innerText()).toBe('—');
    expect(await ju.locator('.filter-period input').evaluateAll((xs) => xs.map((x) => (x as HTMLInputElement).value))).toEqual(['2020-01-01', '2020-01-31']);
    expect(await ju.locator('[data-test=unit-table]').innerText()).toContain('时段内没有诉求');

    // A 分局's supervisor: no conversations, their own units to choose from, their warning.
    const fen = await login('fen', /\/staff\/dashboard$/, violations);
    await fen.getByText('范围：中心区分局').waitFor();
    await expect.poll(() => card(fen, '诉求登记').innerText()).toBe('2');
    expect(await fen.locator('[data-test=no-service]').innerText()).toContain('会话和提问统计仅对局级开放');
    expect(await fen.locator('[data-test="card-会话"]').count()).toBe(0);
    expect(await fen.locator('[data-test="chart-question-category"]').count()).toBe(0);
    expect(await fen.locator('[data-test=knowledge]').count()).toBe(0);
    expect(await fen.getByRole('region', { name: '预警' }).getByRole('alert').allInnerTexts()).toEqual(['预警：人民路派出所 近 30 天差评 1 件（预警线 1 件）']);
    await fen.locator('.el-select').filter({ has: fen.getByRole('combobox', { name: '单位' }) }).click();
    const choices = fen.locator('.el-tree-node__content:visible');
    await choices.first().waitFor();
    const names = (await choices.allInnerTexts()).map((s) => s.trim());
    expect(names).toContain('人民路派出所');
    expect(names).not.toContain('滨江派出所');
    expect(names.filter((n) => n.endsWith('派出所'))).toEqual(['人民路派出所']);
    await fen.keyboard.press('Escape');

    // A handler of 人民路派出所: warned in 诉求办理 of their own unit only.
    const zhou = await login('zhou', /\/staff\/desk$/, violations);
    await zhou.locator('[data-test=warning]').first().waitFor();
    expect(await zhou.locator('[data-test=warning]').allInnerTexts()).toEqual(['预警：人民路派出所 近 30 天差评 1 件（预警线 1 件）']);
    expect(await zhou.getByRole('navigation', { name: '功能' }).innerText()).not.toContain('统计');

    expect(violations).toEqual([]);
  }, 120_000);
});
