/**
 * 诉求办理 in a real browser, "a handler's morning": citizens report matters in the chat; a
 * handler of 人民路派出所 sees their unit's cases (not another unit's), a new one announced
 * live, the overdue one in 已超期; opens it, reveals the contact (audited), adds an internal
 * note and transfers it to 滨江派出所, after which it is no longer theirs to see. A handler of
 * 滨江派出所 finds it in 待受理, accepts it, replies from a template and closes it with a
 * result; the citizen is told the result and asked for a rating in the chat, and never sees
 * the internal note. No CSP violation on the way.
 */
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { openDatabase } from '../../bot/store/database.ts';
import { addStaff } from '../../bot/store/staff.ts';
import { consoleLogin, useBrowser } from '../helpers/browser.ts';
import { useTestServer } from '../helpers/server.ts';

const CHAT_TOKEN = 'chat-token-0123456789';
const PASSWORD = 'desk-password-1';
const NOTE = '已电话联系KTV经营者，约定明日上门核查';
const REASON = '经核实该KTV实际位于滨江派出所辖区';
const RESULT = '经民警现场核查，该KTV已按要求整改，晚上十点后不再营业。';

/** Picks an option of an Element Plus select as a person does. */
async function choose(page: Page, scope: Locator, label: string, option: string): Promise<void> {
  const box = scope.getByRole('combobox', { name: label });
  await scope.locator('.el-select').filter({ has: page.getByRole('combobox', { name: label }) }).click();
  const item = page.getByRole('listbox', { name: label }).getByRole('option', { name: option });
  await item.click();
  await expect.poll(() => box.getAttribute('aria-expanded')).toBe('false');
}

describe('staff console: 诉求办理', () => {
  const t = useTestServer({ CHAT_API_TOKEN: CHAT_TOKEN }, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'zhou', PASSWORD, ['handler'], 'cli', { unit: 'pcs-renmin', displayName: '周警官' });
    await addStaff(db, 'qian', PASSWORD, ['handler'], 'cli', { unit: 'pcs-binjiang', displayName: '钱警官' });
    await db.close();
  });
  const b = useBrowser();

  const chat = async (userId: string, body: Record<string, unknown>) => {
    const res = await fetch(`${t.base}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_TOKEN}` },
      body: JSON.stringify({ userId, ...body }),
    });
    const r = (await res.json()) as { replies: Array<{ text?: string; head?: string; items?: Array<{ label: string }> }> };
    return r.replies.map((x) => [x.text ?? x.head ?? '', ...(x.items ?? []).map((i) => i.label)].join('\n')).join('\n');
  };
  /** A citizen reports a matter in the chat, step by step; the case number they are told. */
  const report = async (userId: string, description: string, place: string, mobile: string) => {
    await chat(userId, { text: `我要投诉，${description}` });
    await chat(userId, { text: place });
    await chat(userId, { text: mobile });
    await chat(userId, { menuId: 'case:skip' });
    await chat(userId, { menuId: 'case:consent:yes' });
    const done = await chat(userId, { menuId: 'case:submit' });
    const id = /编号 (XA\d+)/.exec(done)?.[1];
    if (!id) throw new Error(`no case number in: ${done}`);
    return id;
  };
  const unitOf = async (id: string) => (await t.server.db.query<{ handling_unit: string }>('SELECT handling_unit FROM cases WHERE id = $1', [id])).rows[0]?.handling_unit;

  /** A fresh browser context logged in, on the surface it opens; CSP violations collected. */
  const login = (username: string, violations: string[]) => consoleLogin(b.browser, t.base, { username, password: PASSWORD, lands: /\/staff\/desk$/, violations });

  it("a handler's morning: overdue case, contact, note, transfer; the other unit accepts, replies, closes; the citizen is surveyed", async () => {
    const renmin = await report('c-renmin', '人民路的KTV每天半夜噪音扰民，影响休息', '人民路 8 号', '13800001111');
    const binjiang = await report('c-binjiang', '滨江大道的酒吧每天半夜噪音扰民，吵得睡不着', '滨江大道 3 号', '13900002222');
    expect(await unitOf(renmin)).toBe('pcs-renmin');
    expect(await unitOf(binjiang)).toBe('pcs-binjiang');
    await t.server.db.query("UPDATE cases SET due_at = now() - interval '1 hour' WHERE id = $1", [renmin]);

    const violations: string[] = [];
    const zhou = await login('zhou', violations);
    await zhou.getByText('zhou（办理人员）').waitFor();
    await zhou.getByText('本单位：人民路派出所').waitFor();
    const list = zhou.locator('[data-test=case-list]');
    await list.getByRole('link', { name: renmin }).waitFor();
    // Only the unit's own cases: 滨江's is not there.
    expect(await list.innerText()).not.toContain(binjiang);
    expect(await list.innerText()).not.toContain('13800001111');

    // A new case of the unit arrives while the list is open: announced and listed, live.
    const fire = await report('c-fire', '文华路的烧烤店每天深夜喧哗扰民，影响周边居民', '文华路 2 号', '13700004444');
    expect(await unitOf(fire)).toBe('pcs-renmin');
    await zhou.getByText(`新诉求 ${fire}`).waitFor();
    await list.getByRole('link', { name: fire }).waitFor();
    await expect.poll(() => zhou.getByRole('tab', { name: /全部在办/ }).innerText()).toContain('2');

    // 已超期: the overdue case, in red, and only it.
    await zhou.getByRole('tab', { name: /已超期/ }).click();
    await zhou.waitForURL(/tab=overdue/);
    await expect.poll(() => list.innerText()).not.toContain(fire);
    const row = list.locator('tr', { hasText: renmin });
    expect(await row.innerText()).toMatch(/投诉·治安[\s\S]*人民路派出所[\s\S]*未分配[\s\S]*待受理[\s\S]*已超期/);
    expect(await row.locator('[data-sla=overdue]').count()).toBe(1);
    expect(await list.innerText()).not.toContain(binjiang);

    // The case page: everything, the contact masked until asked for.
    await row.getByRole('link', { name: renmin }).click();
    await zhou.waitForURL(new RegExp(`/staff/desk/${renmin}$`));
    await zhou.locator('[data-test=case-id]').getByText(renmin).waitFor();
    expect(await zhou.locator('[data-test=case-status]').innerText()).toBe('待受理');
    expect(await zhou.locator('[data-test=case-sla]').innerText()).toBe('已超期');
    const info = zhou.locator('[data-test=case-info]');
    expect(await info.innerText()).toMatch(/人民路的KTV每天半夜噪音扰民[\s\S]*人民路 8 号[\s\S]*人民路派出所[\s\S]*市公安局治安管理支队[\s\S]*同意电话回访/);
    const contact = zhou.locator('[data-test=contact]');
    expect(await contact.innerText()).toContain('138****1111');
    expect(await zhou.locator('body').innerText()).not.toContain('13800001111');
    expect(await contact.innerText()).toContain('查看记录将写入审计日志');
    await contact.getByRole('button', { name: '查看联系方式' }).click();
    await contact.getByText('13800001111').waitFor();
    const reveals = await t.server.db.query('SELECT 1 FROM audit_log WHERE action = $1 AND actor = $2 AND target = $3', ['case.contact', 'zhou', renmin]);
    expect(reveals.rows).toHaveLength(1);
    // The chat it came from, masked.
    await zhou.getByRole('button', { name: /来源对话/ }).click();
    const transcript = zhou.getByRole('list', { name: '来源对话' });
    await transcript.getByText('我要投诉，人民路的KTV').first().waitFor();
    expect(await transcript.innerText()).toContain('138****1111');
    expect(await transcript.innerText()).not.toContain('13800001111');

    // An internal note, in the steps and marked 内部.
    await zhou.getByRole('button', { name: '内部备注', exact: true }).click();
    const noteDialog = zhou.getByRole('dialog', { name: '内部备注' });
    await noteDialog.getByLabel('备注内容').fill(NOTE);
    await noteDialog.getByRole('button', { name: '保存备注' }).click();
    await zhou.getByText('已添加内部备注').waitFor();
    const steps = zhou.locator('[data-test=steps]');
    const noteStep = steps.locator('.el-timeline-item', { hasText: NOTE });
    await noteStep.waitFor();
    expect(await noteStep.innerText()).toMatch(/周警官[\s\S]*内部备注[\s\S]*内部/);

    // Transferred to 滨江派出所: it leaves zhou's unit, and zhou's view.
    await zhou.getByRole('button', { name: '转办', exact: true }).click();
    const transfer = zhou.getByRole('dialog', { name: '转办' });
    await transfer.locator('.el-select').filter({ has: zhou.getByRole('combobox', { name: '转办单位' }) }).click();
    await zhou.getByRole('combobox', { name: '转办单位' }).fill('滨江');
    // The filtered tree re-renders as it settles: pick again until the choice shows.
    await expect
      .poll(async () => {
        const text = await transfer.innerText();
        if (!text.includes('滨江派出所')) await zhou.getByRole('treeitem', { name: '滨江派出所', exact: true }).click({ timeout: 2_000 }).catch(() => {});
        return transfer.innerText();
      }, { timeout: 20_000, interval: 300 })
      .toContain('滨江派出所');
    await transfer.getByLabel('转办原因').fill(REASON);
    await transfer.getByRole('button', { name: '确认转办' }).click();
    await zhou.getByText('已转办至 滨江派出所').waitFor();
    await zhou.waitForURL(/\/staff\/desk(\?.*)?$/);
    await list.waitFor();
    await expect.poll(() => list.innerText()).not.toContain(renmin);
    expect(await unitOf(renmin)).toBe('pcs-binjiang');
    await zhou.goto(`${t.base}/staff/desk/${renmin}`);
    await zhou.getByText('无法查看该诉求').waitFor();

    // The citizen asks how it is going: the working note and the reason are staff's alone.
    const progress = await chat('c-renmin', { text: '我的诉求怎么样了' });
    expect(progress).toContain(renmin);
    expect(progress).not.toContain(NOTE);
    expect(progress).not.toContain(REASON);

    // 滨江派出所 takes it from 待受理.
    const qian = await login('qian', violations);
    await qian.getByText('本单位：滨江派出所').waitFor();
    await qian.getByRole('tab', { name: /待受理/ }).click();
    await qian.waitForURL(/tab=submitted/);
    const qlist = qian.locator('[data-test=case-list]');
    await qlist.getByRole('link', { name: renmin }).waitFor();
    await qlist.getByRole('link', { name: binjiang }).waitFor();
    expect(await qlist.innerText()).not.toContain(fire);
    await qlist.getByRole('link', { name: renmin }).click();
    await qian.waitForURL(new RegExp(`/staff/desk/${renmin}$`));
    const status = qian.locator('[data-test=case-status]');
    await status.getByText('待受理').waitFor();
    expect(await qian.locator('[data-test=case-info]').innerText()).toContain('滨江派出所');
    // The transfer's reason and zhou's note are in the steps for staff.
    expect(await qian.locator('[data-test=steps]').innerText()).toMatch(new RegExp(`${NOTE}[\\s\\S]*转办[\\s\\S]*人民路派出所 → 滨江派出所：${REASON}`));

    await qian.getByRole('button', { name: '受理', exact: true }).click();
    await expect.poll(() => status.innerText()).toBe('已受理');
    // Accepting makes the case the accepting handler's.
    await expect.poll(() => qian.locator('[data-test=assignee]').innerText()).toBe('钱警官');

    // The reply from the category's template, with its blanks filled in.
    await qian.getByRole('button', { name: '答复', exact: true }).click();
    const replyDialog = qian.getByRole('dialog', { name: '答复群众' });
    await choose(qian, replyDialog, '答复模板', '噪音扰民处理');
    const replyBox = replyDialog.getByLabel('答复内容');
    await expect.poll(() => replyBox.inputValue()).toContain('噪音扰民问题已收悉');
    const fills = ['人民路 8 号KTV', '昨晚22时', 'KTV经营者', '晚上十点后停止营业'];
    const reply = (await replyBox.inputValue()).replace(/【[^】]*】/g, () => fills.shift() ?? '');
    await replyBox.fill(reply);
    await replyDialog.getByRole('button', { name: '发送答复' }).click();
    await expect.poll(() => status.innerText()).toBe('已答复');
    expect(await qian.locator('[data-test=reply]').innerText()).toBe(reply);

    // Closing: the result the citizen reads starts as the reply.
    await qian.getByRole('button', { name: '办结', exact: true }).click();
    const closeDialog = qian.getByRole('dialog', { name: '办结' });
    const resultBox = closeDialog.getByLabel('办理结果');
    expect(await resultBox.inputValue()).toBe(reply);
    await resultBox.fill(RESULT);
    await closeDialog.getByRole('button', { name: '确认办结' }).click();
    await expect.poll(() => status.innerText()).toBe('已办结');
    expect(await qian.locator('[data-test=case-sla]').innerText()).toBe('超期办结');
    expect(await qian.locator('[data-test=case-actions]').innerText()).not.toMatch(/受理|答复|办结|转办/);

    // The citizen is told the result and asked to rate it (好差评) at their next message.
    await expect.poll(async () => (await t.server.db.query<{ status: string }>('SELECT status FROM surveys WHERE case_id = $1', [renmin])).rows.map((r) => r.status)).toEqual(['pending']);
    const told = await chat('c-renmin', { text: '我的诉求怎么样了' });
    expect(told).toContain(`您反映的问题（编号 ${renmin}）已办结。办理结果：${RESULT}`);
    expect(told).toContain('请您对这次办理进行评价');
    expect(told).toContain('非常满意');
    expect(told).not.toContain(NOTE);
    expect(told).not.toContain(REASON);

    expect(violations).toEqual([]);
  });
});
