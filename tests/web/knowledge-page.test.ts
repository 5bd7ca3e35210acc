/**
 * 知识库 in a real browser, "a fee changes": editor lin finds 普通护照首次申领, edits it in
 * the structured editor (an emptied 收费标准 is a problem named under the field; the new fee
 * clears it), saves, sees the changed line against the published text, asks the draft
 * 办护照要多少钱 (100元 from the draft, 120元 published) and submits it; she cannot approve
 * her own draft, and citizens are still told 120元. Editor wang runs the regression gate,
 * approves and publishes; then 小安 answers 100元. No CSP violation on the way.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff } from '../../bot/store/staff.ts';
import { consoleLogin, useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

const PASSWORD = 'editor-password-1';

describe('staff console: 知识库', () => {
  const t = useTestServer({ KB_RELEASE_CHECK_MS: '200' }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'lin', PASSWORD, ['editor'], 'cli', { displayName: '林编辑' });
    await addStaff(db, 'wang', PASSWORD, ['editor'], 'cli', { displayName: '王编辑' });
    await db.close();
  });
  const b = useBrowser();

  /** What 小安 tells a citizen who asks the fee (a new connection: the server may be busy indexing). */
  const fee = async () =>
    JSON.stringify(await (await fetch(`${t.base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ text: '办护照要多少钱' }) })).json());

  /** A fresh browser context logged in, on the surface it opens; CSP violations collected. */
  const login = (username: string, violations: string[]) => consoleLogin(b.browser, t.base, { username, password: PASSWORD, lands: /\/staff\/knowledge$/, violations });

  it('a fee edited in the structured editor, previewed, submitted; another editor gates, approves and publishes it; then it is live', async () => {
    const violations: string[] = [];
    const lin = await login('lin', violations);
    expect(await lin.getByRole('navigation', { name: '功能' }).innerText()).toBe('知识库');

    // 指南: found by name, in force, no draft yet.
    await lin.getByLabel('按名称筛选').fill('普通护照首次申领');
    const guides = lin.locator('[data-test=guide-list]');
    const row = guides.locator('tr', { hasText: 'crj-01' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/普通护照首次申领[\s\S]*出入境[\s\S]*已发布[\s\S]*seed/);
    expect(await guides.locator('tbody tr').count()).toBe(1);
    await row.getByRole('button', { name: '编辑 普通护照首次申领' }).click();
    await lin.waitForURL(/\/staff\/knowledge\/drafts\/\d+\/guides\/crj-01$/);
    const draftId = Number(/drafts\/(\d+)\//.exec(lin.url())![1]);
    await lin.getByRole('heading', { name: /编辑指南：普通护照首次申领/ }).waitFor();

    // The structured editor: an emptied 收费标准 is a problem shown under that field.
    const feeBox = lin.getByLabel('收费标准', { exact: true });
    const original = await feeBox.inputValue();
    expect(original).toContain('普通护照每本120元');
    const count = lin.locator('[data-test=problem-count]');
    expect(await count.innerText()).toBe('校验通过');
    const english = lin.locator('[data-test=english-state]');
    expect(await english.innerText()).toBe('英文版一致');
    await feeBox.fill('');
    const feeProblems = lin.locator('[data-test="problems-收费标准"]');
    await expect.poll(() => feeProblems.innerText().catch(() => ''), { timeout: 15_000 }).toContain('is empty');
    await expect.poll(() => count.innerText()).toBe('1 处问题');
    // The new fee: the problem goes.
    await feeBox.fill(original.replace('普通护照每本120元', '普通护照每本100元'));
    await expect.poll(() => count.innerText(), { timeout: 15_000 }).toBe('校验通过');
    await expect.poll(() => feeProblems.count()).toBe(0);
    // The English Fees section is now out of step: a warning, and the draft can still be saved.
    expect(await english.innerText()).toMatch(/英文版 \d+ 处待更新/);
    expect(await lin.locator('[data-test=english-warnings]').innerText()).toContain('## Fees');
    await lin.getByRole('button', { name: '保存', exact: true }).click();
    await lin.getByText('已保存', { exact: true }).waitFor();

    // Against the published text: the fee line removed and added, changed.
    await lin.getByRole('button', { name: '与已发布版本对比' }).click();
    const diff = lin.getByRole('list', { name: '与已发布版本的差异' });
    await diff.waitFor();
    expect(await diff.locator('[data-kind=removed]').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('普通护照每本120元')]));
    expect(await diff.locator('[data-kind=added]').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('普通护照每本100元')]));
    expect(await diff.locator('[data-kind=added]').allInnerTexts()).not.toEqual(expect.arrayContaining([expect.stringContaining('120元')]));

    // The draft: the changed guide, and 试问 against the release in force.
    await lin.getByRole('link', { name: `返回草稿 #${draftId}` }).click();
    await lin.waitForURL(new RegExp(`/staff/knowledge/drafts/${draftId}$`));
    const status = lin.locator('[data-test=draft-status]');
    await status.getByText('草稿').waitFor();
    expect(await lin.locator('[data-test=draft-info]').innerText()).toContain('修改：普通护照首次申领');
    expect(await lin.locator('[data-test=draft-files]').innerText()).toMatch(/修改\s*普通护照首次申领\s*guides\/crj-01\.md/);
    await lin.getByLabel('试问问题').fill('办护照要多少钱');
    await lin.getByRole('button', { name: '试问', exact: true }).click();
    const fromDraft = lin.locator('[data-test=preview-draft]');
    await fromDraft.waitFor({ timeout: 60_000 });
    expect(await fromDraft.innerText()).toContain('100元');
    expect(await fromDraft.innerText()).not.toContain('120元');
    expect(await fromDraft.innerText()).toMatch(/普通护照首次申领[\s\S]*BM25[\s\S]*向量/);
    expect(await lin.locator('[data-test=preview-published]').innerText()).toContain('120元');
    await lin.locator('[data-test=preview-changed]').getByText('有变化').waitFor();

    await lin.getByRole('button', { name: '提交审核' }).click();
    await expect.poll(() => status.innerText()).toBe('待审核');
    // Her own draft: no gate, no approval for her.
    await lin.locator('[data-test=wait-review]').waitFor();
    const actions = lin.locator('[data-test=draft-actions]');
    expect(await actions.getByRole('button', { name: '审核通过' }).count()).toBe(0);
    expect(await actions.getByRole('button', { name: /回归检查/ }).count()).toBe(0);
    expect(await fee()).toContain('120元');

    // wang: from 草稿 to the draft; the gate, then approval and publication.
    const wang = await login('wang', violations);
    await wang.getByRole('tab', { name: '草稿' }).click();
    await wang.waitForURL(/tab=drafts/);
    const drafts = wang.locator('[data-test=draft-list]');
    const draftRow = drafts.locator('tr', { has: wang.locator(`[data-test=draft-${draftId}]`) });
    await draftRow.waitFor();
    expect(await draftRow.innerText()).toMatch(/修改：普通护照首次申领[\s\S]*lin[\s\S]*待审核/);
    await draftRow.getByRole('link', { name: `#${draftId}` }).click();
    await wang.waitForURL(new RegExp(`/staff/knowledge/drafts/${draftId}$`));
    const wstatus = wang.locator('[data-test=draft-status]');
    await wstatus.getByText('待审核').waitFor();
    const wactions = wang.locator('[data-test=draft-actions]');
    expect(await wactions.getByRole('button', { name: '审核通过' }).isDisabled()).toBe(true);
    await wactions.getByRole('button', { name: '运行回归检查' }).click();
    const verdict = wang.locator('[data-test=gate-verdict]');
    await verdict.waitFor({ timeout: 120_000 });
    expect(await verdict.innerText()).toContain('通过');
    expect(await verdict.innerText()).not.toContain('未通过');
    expect(await wang.locator('[data-test=gate]').innerText()).toMatch(/首位命中率（已发布）[\s\S]*%[\s\S]*首位命中率（草稿）[\s\S]*%/);
    await wactions.getByRole('button', { name: '审核通过' }).click();
    await expect.poll(() => wstatus.innerText()).toBe('已审核');
    expect(await fee()).toContain('120元');
    await wactions.getByRole('button', { name: '发布', exact: true }).click();
    await expect.poll(() => wstatus.innerText(), { timeout: 60_000 }).toBe('已发布');
    const published = await wang.locator('[data-test=published]').innerText();
    const releaseId = Number(/#(\d+)/.exec(published)?.[1]);
    expect(releaseId).toBeGreaterThan(0);
    await expect.poll(fee, { timeout: 30_000, interval: 500 }).toContain('100元');

    // 版本: the new release in force, by lin, approved by wang.
    await wang.goto(`${t.base}/staff/knowledge?tab=releases`);
    const release = wang.locator('[data-test=release-list] tr', { hasText: `#${releaseId}` });
    await release.waitFor();
    expect(await release.innerText()).toMatch(/生效中[\s\S]*发布[\s\S]*lin[\s\S]*wang[\s\S]*修改：普通护照首次申领/);

    expect(violations).toEqual([]);
  }, 240_000);
});
